import { SECRET_MIN_LENGTH } from '../core/access/config.js';
import { signUrl } from '../core/access/signed-url.js';
import { parseCommandArgs, UsageError, type Command } from './command.js';

/** Bare numbers from here on are UNIX times (2001-09-09), below it a number of seconds from now. */
const ABSOLUTE_FROM = 1_000_000_000;
const UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400 };

/** `--expires`: `90s`, `30m`, `1h`, `7d`, `3600` (seconds from now) or a UNIX time in seconds. */
export function parseExpires(text: string, nowSeconds: number): number {
  const relative = /^(\d+)([smhd])$/.exec(text.trim());
  if (relative) return nowSeconds + Number(relative[1]) * UNITS[relative[2]!]!;
  if (/^\d+$/.test(text.trim())) {
    const n = Number(text.trim());
    if (Number.isSafeInteger(n)) return n >= ABSOLUTE_FROM ? n : nowSeconds + n;
  }
  throw new UsageError(`--expires takes a duration (90s, 30m, 1h, 7d), seconds from now (3600) or a UNIX time, not ${JSON.stringify(text)}`);
}

export const signCommand: Command = {
  name: 'sign',
  summary: 'Print a stream URL signed for server.auth (?expires=&sign=)',
  help: `Usage: wsflv sign URL [--secret SECRET] [--expires WHEN]

Prints URL with expires=UNIX_SECONDS and sign=HEX added (replacing any already there), for an app whose
publishSecret or playSecret is set under server.auth in pipeline.yaml. Sign publish URLs with the
publishSecret and play URLs with the playSecret.

  sign = lowercase hex HMAC-SHA256(secret, "/APP/STREAM.flv:EXPIRES")

The same signature serves every URL form of a stream (ws, wss, http, https; /APP/STREAM.flv,
/publish?app=APP&stream=STREAM, /play?app=APP&stream=STREAM). The URL is valid until EXPIRES, included.

Options:
  -s, --secret SECRET   the app's secret (at least ${SECRET_MIN_LENGTH} characters); default: the
                        WSFLV_SIGN_SECRET environment variable, which stays out of shell history and ps
  -e, --expires WHEN    90s, 30m, 1h, 7d, a number of seconds from now (3600), or a UNIX time in
                        seconds (any number from ${ABSOLUTE_FROM} up); default 1h
  -h, --help            show this help

Example:
  wsflv sign ws://127.0.0.1:8080/live/cam1.flv --secret "$PLAY_SECRET" --expires 30m`,
  async run(argv) {
    const { values, positionals } = parseCommandArgs(argv, {
      secret: { type: 'string', short: 's' },
      expires: { type: 'string', short: 'e' },
    });
    if (positionals.length !== 1) throw new UsageError('give one URL to sign');
    const secret = values.secret ?? process.env.WSFLV_SIGN_SECRET;
    if (!secret) throw new UsageError('give the secret with --secret or in WSFLV_SIGN_SECRET');
    if (secret.length < SECRET_MIN_LENGTH) throw new UsageError(`a secret has at least ${SECRET_MIN_LENGTH} characters (the server refuses shorter ones)`);
    const now = Math.floor(Date.now() / 1000);
    const expires = parseExpires(values.expires ?? '1h', now);
    let signed: string;
    try {
      signed = signUrl(positionals[0]!, secret, expires);
    } catch (error) {
      throw new UsageError((error as Error).message);
    }
    console.log(signed);
    const when = new Date(expires * 1000).toISOString().replace('.000Z', 'Z');
    console.error(expires < now ? `wsflv sign: already expired (${when})` : `wsflv sign: valid until ${when} (${expires - now} s from now)`);
    return 0;
  },
};
