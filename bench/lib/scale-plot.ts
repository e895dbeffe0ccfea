/** One server at one player count, as the scale curve shows it. */
export interface ScalePoint {
  server: string;
  players: number;
  cpuUsPerPlayerSecond: number;
  latencyP99Ms: number;
  rssKBPerPlayer: number;
  /** Some players missed tags or did not keep up: the server fell behind at this N. */
  behind: boolean;
}

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b'];
const W = 420;
const H = 260;
const PAD = { left: 58, right: 12, top: 28, bottom: 40 };

/**
 * The scale curve as a small self-contained SVG: CPU per player-second, latency p99 and RSS per
 * player against the player count (log scale), one line per server, a hollow marker where it fell
 * behind. Written by hand: three panels of polylines need no plotting library.
 */
export function scaleCurveSvg(points: readonly ScalePoint[], title: string): string {
  const servers = [...new Set(points.map((p) => p.server))];
  const ns = [...new Set(points.map((p) => p.players))].sort((a, b) => a - b);
  const panels: { label: string; value: (p: ScalePoint) => number; log?: boolean }[] = [
    { label: 'CPU µs per player-second', value: (p) => p.cpuUsPerPlayerSecond },
    // Log scale: a server that fell behind is seconds late, one that keeps up a few milliseconds.
    { label: 'latency p99 ms (log scale)', value: (p) => p.latencyP99Ms, log: true },
    { label: 'RSS KB per player', value: (p) => p.rssKBPerPlayer },
  ];
  const parts: string[] = [];
  panels.forEach((panel, i) => {
    const x0 = i * W;
    const values = points.map(panel.value).filter(Number.isFinite);
    const top = Math.max(1, ...values);
    const max = panel.log ? 10 ** Math.ceil(Math.log10(Math.max(10, top))) : niceMax(top);
    const lx = (n: number) => {
      const lo = Math.log(ns[0]!);
      const hi = Math.log(ns.at(-1)!);
      const t = hi === lo ? 0.5 : (Math.log(n) - lo) / (hi - lo);
      return x0 + PAD.left + t * (W - PAD.left - PAD.right);
    };
    const ly = panel.log
      ? (v: number) => PAD.top + (1 - Math.log10(Math.max(1, v)) / Math.log10(max)) * (H - PAD.top - PAD.bottom)
      : (v: number) => PAD.top + (1 - Math.max(0, v) / max) * (H - PAD.top - PAD.bottom);
    parts.push(`<text x="${x0 + W / 2}" y="16" text-anchor="middle" font-weight="bold">${esc(panel.label)}</text>`);
    parts.push(`<line x1="${x0 + PAD.left}" y1="${H - PAD.bottom}" x2="${x0 + W - PAD.right}" y2="${H - PAD.bottom}" stroke="#888"/>`);
    parts.push(`<line x1="${x0 + PAD.left}" y1="${PAD.top}" x2="${x0 + PAD.left}" y2="${H - PAD.bottom}" stroke="#888"/>`);
    const ticks = panel.log ? Array.from({ length: Math.round(Math.log10(max)) + 1 }, (_, k) => 10 ** k) : [0, 1, 2, 3, 4].map((k) => (max * k) / 4);
    for (const v of ticks) {
      parts.push(`<text x="${x0 + PAD.left - 6}" y="${ly(v) + 4}" text-anchor="end" font-size="10">${fmt(v)}</text>`);
      parts.push(`<line x1="${x0 + PAD.left}" y1="${ly(v)}" x2="${x0 + W - PAD.right}" y2="${ly(v)}" stroke="#eee"/>`);
    }
    for (const n of ns) parts.push(`<text x="${lx(n)}" y="${H - PAD.bottom + 14}" text-anchor="middle" font-size="10">${n}</text>`);
    parts.push(`<text x="${x0 + W / 2}" y="${H - 8}" text-anchor="middle" font-size="10">players (log scale)</text>`);
    servers.forEach((server, s) => {
      const color = COLORS[s % COLORS.length]!;
      const line = points.filter((p) => p.server === server && Number.isFinite(panel.value(p))).sort((a, b) => a.players - b.players);
      parts.push(`<polyline fill="none" stroke="${color}" stroke-width="2" points="${line.map((p) => `${lx(p.players).toFixed(1)},${ly(panel.value(p)).toFixed(1)}`).join(' ')}"/>`);
      for (const p of line) parts.push(`<circle cx="${lx(p.players).toFixed(1)}" cy="${ly(panel.value(p)).toFixed(1)}" r="3.5" fill="${p.behind ? 'white' : color}" stroke="${color}" stroke-width="1.5"/>`);
    });
  });
  const legend = servers.map((server, s) => `<g transform="translate(${PAD.left + s * 150},${H + 14})"><rect width="12" height="12" fill="${COLORS[s % COLORS.length]}"/><text x="16" y="11">${esc(server)}</text></g>`);
  legend.push(`<text x="${PAD.left + servers.length * 150}" y="${H + 25}" font-size="11">hollow: fell behind (players missed tags or lagged)</text>`);
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W * panels.length}" height="${H + 50}" font-family="sans-serif" font-size="12">`,
    `<title>${esc(title)}</title>`,
    '<rect width="100%" height="100%" fill="white"/>',
    ...parts,
    ...legend,
    '</svg>',
    '',
  ].join('\n');
}

function niceMax(v: number): number {
  const step = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * step >= v) return m * step;
  return 10 * step;
}

function fmt(v: number): string {
  return v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(0) : v.toFixed(1);
}

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;');
}
