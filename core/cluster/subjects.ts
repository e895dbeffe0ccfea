/**
 * The NATS subjects of one cluster, all under its prefix:
 *
 *   PREFIX.streams             every node's announcement (its streams), each second and on change
 *   PREFIX.hello               a node that just joined asks the others to announce now
 *   PREFIX.node.NODE           requests to one node: want / unwant a stream, take a stream over
 *   PREFIX.feed.NODE.N         one stream's media to the node that wants it
 */
export class Subjects {
  readonly streams: string;
  readonly hello: string;
  readonly #prefix: string;

  constructor(prefix: string) {
    this.#prefix = prefix;
    this.streams = `${prefix}.streams`;
    this.hello = `${prefix}.hello`;
  }

  node(node: string): string {
    return `${this.#prefix}.node.${node}`;
  }

  /** `feed` is `NODE.N`: the node it goes to and its number there. */
  feed(feed: string): string {
    return `${this.#prefix}.feed.${feed}`;
  }
}
