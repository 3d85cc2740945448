/**
 * Two small SVG charts for the benchmark results: points over time, and a histogram.
 * Written by hand because a chart here is a few dozen lines of SVG text, and a charting
 * library (with its DOM or canvas layer) would be a heavy dependency for two static files
 * that any browser or GitHub page shows as they are.
 */

export interface Series {
  name: string;
  colour: string;
  points: [number, number][];
}

export interface Marker {
  label: string;
  value: number;
  colour: string;
}

const W = 900;
const H = 420;
const M = { left: 64, right: 24, top: 44, bottom: 56 };
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const fmt = (x: number) => (Math.abs(x) >= 100 ? x.toFixed(0) : Math.abs(x) >= 10 ? x.toFixed(1) : x.toFixed(2));

/** Round steps (1, 2 or 5 times a power of ten) covering 0..max in about `n` ticks. */
function ticks(max: number, n = 6): number[] {
  const raw = max / n;
  const p = 10 ** Math.floor(Math.log10(raw || 1));
  const step = [1, 2, 5, 10].map((m) => m * p).find((s) => s >= raw) ?? raw;
  return Array.from({ length: Math.floor(max / step) + 1 }, (_, i) => +(i * step).toFixed(10));
}

function frame(title: string, xLabel: string, yLabel: string, xMax: number, yMax: number, body: string[]): string {
  const pw = W - M.left - M.right;
  const ph = H - M.top - M.bottom;
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2}" y="22" text-anchor="middle" font-size="15">${esc(title)}</text>`,
  ];
  for (const t of ticks(yMax)) {
    const y = M.top + ph - (t / yMax) * ph;
    out.push(`<line x1="${M.left}" x2="${M.left + pw}" y1="${y}" y2="${y}" stroke="#e5e5e5"/>`, `<text x="${M.left - 6}" y="${y + 4}" text-anchor="end">${fmt(t)}</text>`);
  }
  for (const t of ticks(xMax, 8)) {
    const x = M.left + (t / xMax) * pw;
    out.push(`<line x1="${x}" x2="${x}" y1="${M.top + ph}" y2="${M.top + ph + 4}" stroke="#333"/>`, `<text x="${x}" y="${M.top + ph + 18}" text-anchor="middle">${fmt(t)}</text>`);
  }
  out.push(
    `<line x1="${M.left}" x2="${M.left + pw}" y1="${M.top + ph}" y2="${M.top + ph}" stroke="#333"/>`,
    `<line x1="${M.left}" x2="${M.left}" y1="${M.top}" y2="${M.top + ph}" stroke="#333"/>`,
    `<text x="${M.left + pw / 2}" y="${H - 14}" text-anchor="middle">${esc(xLabel)}</text>`,
    `<text transform="translate(16 ${M.top + ph / 2}) rotate(-90)" text-anchor="middle">${esc(yLabel)}</text>`,
    ...body,
    '</svg>',
  );
  return out.join('\n') + '\n';
}

function legend(items: { name: string; colour: string }[]): string[] {
  return items.map((it, i) => {
    const x = M.left + 10 + i * 230;
    return `<rect x="${x}" y="${M.top - 14}" width="10" height="10" fill="${it.colour}"/><text x="${x + 14}" y="${M.top - 5}">${esc(it.name)}</text>`;
  });
}

/** Dots (x, y) per series, with horizontal lines at `lines` (a goal). The y axis is cut at `yCap`; points above sit on the top edge. */
export function scatterChart(o: { title: string; xLabel: string; yLabel: string; series: Series[]; lines: Marker[]; yCap?: number }): string {
  const all = o.series.flatMap((s) => s.points);
  const xMax = Math.max(1, ...all.map((p) => p[0])) * 1.02;
  const yTop = Math.max(...all.map((p) => p[1]), ...o.lines.map((l) => l.value)) * 1.1 || 1;
  const yMax = Math.min(yTop, o.yCap ?? yTop);
  const pw = W - M.left - M.right;
  const ph = H - M.top - M.bottom;
  const body: string[] = [];
  for (const s of o.series) {
    for (const [x, y] of s.points) {
      body.push(`<circle cx="${(M.left + (x / xMax) * pw).toFixed(1)}" cy="${(M.top + ph - (Math.min(y, yMax) / yMax) * ph).toFixed(1)}" r="1.6" fill="${s.colour}" fill-opacity="0.5"/>`);
    }
  }
  for (const l of o.lines) {
    const y = M.top + ph - (l.value / yMax) * ph;
    body.push(`<line x1="${M.left}" x2="${M.left + pw}" y1="${y}" y2="${y}" stroke="${l.colour}" stroke-dasharray="6 4"/>`, `<text x="${M.left + pw - 4}" y="${y - 4}" text-anchor="end" fill="${l.colour}">${esc(l.label)}</text>`);
  }
  body.push(...legend(o.series.map((s) => ({ name: `${s.name} (${s.points.length})`, colour: s.colour }))));
  return frame(o.title, o.xLabel, o.yLabel, xMax, yMax, body);
}

/** A histogram of `values` in bins of `bin`, with vertical lines at `markers` (percentiles, a goal). */
export function histogram(o: { title: string; xLabel: string; values: number[]; bin: number; markers: Marker[]; colour: string }): string {
  const xMax = Math.max(o.bin, ...o.values, ...o.markers.map((m) => m.value)) * 1.05;
  const counts = new Array<number>(Math.ceil(xMax / o.bin)).fill(0);
  for (const v of o.values) counts[Math.min(counts.length - 1, Math.floor(v / o.bin))]!++;
  const yMax = Math.max(1, ...counts) * 1.1;
  const pw = W - M.left - M.right;
  const ph = H - M.top - M.bottom;
  const body = counts.map((c, i) => {
    const x = M.left + ((i * o.bin) / xMax) * pw;
    const h = (c / yMax) * ph;
    return `<rect x="${x.toFixed(1)}" y="${(M.top + ph - h).toFixed(1)}" width="${Math.max(1, (o.bin / xMax) * pw - 1).toFixed(1)}" height="${h.toFixed(1)}" fill="${o.colour}"/>`;
  });
  o.markers.forEach((m, i) => {
    const x = M.left + (m.value / xMax) * pw;
    body.push(`<line x1="${x}" x2="${x}" y1="${M.top}" y2="${M.top + ph}" stroke="${m.colour}" stroke-dasharray="5 3"/>`, `<text x="${x + 3}" y="${M.top + 12 + i * 14}" fill="${m.colour}">${esc(m.label)}</text>`);
  });
  return frame(o.title, o.xLabel, 'messages', xMax, yMax, body);
}
