import sharp from 'sharp';
import { readSourceBytes } from '../data/sources.js';

/** Escapes text for HTML content and attribute values. */
export function esc(value: unknown): string {
  return String(value).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** Makes thumbnails as JPEG data URIs, reading each source once; unreadable sources give null. */
export class Thumbnails {
  private readonly cache = new Map<string, Promise<string | null>>();
  constructor(
    private readonly size = 80,
    private readonly read: (source: string) => Promise<Uint8Array> = readSourceBytes,
  ) {}

  get(source: string): Promise<string | null> {
    let hit = this.cache.get(source);
    if (!hit) {
      hit = this.make(source);
      this.cache.set(source, hit);
    }
    return hit;
  }

  private async make(source: string): Promise<string | null> {
    try {
      const jpeg = await sharp(await this.read(source))
        .resize(this.size, this.size, { fit: 'cover' })
        .flatten({ background: '#ffffff' })
        .jpeg({ quality: 72 })
        .toBuffer();
      return `data:image/jpeg;base64,${jpeg.toString('base64')}`;
    } catch {
      return null;
    }
  }
}

export interface Tile {
  source: string;
  caption: string;
  /** Extra class, e.g. `bad` for a large error. */
  tone?: 'good' | 'bad' | '';
}

/** A thumbnail's alt text: the face's file name (of a path, or of a zip entry `archive.zip!/dir/name`). */
export function thumbnailAlt(source: string): string {
  return `face, file ${source.split(/[\\/]/).filter(Boolean).pop() ?? source}`;
}

/** A gallery of thumbnails with captions (a missing image shows its caption in a grey box). */
export async function gallery(thumbs: Thumbnails, tiles: readonly Tile[]): Promise<string> {
  const items = await Promise.all(
    tiles.map(async (t) => {
      const uri = await thumbs.get(t.source);
      // the alt text names the file (the caption beside it already gives the labels: read twice otherwise)
      const img = uri ? `<img src="${uri}" alt="${esc(thumbnailAlt(t.source))}" width="80" height="80">` : `<div class="missing">unreadable</div>`;
      return `<figure class="tile ${t.tone ?? ''}" title="${esc(t.source)}">${img}<figcaption>${esc(t.caption)}</figcaption></figure>`;
    }),
  );
  return `<div class="gallery">${items.join('')}</div>`;
}

/**
 * A plain table; `cells` are already-escaped HTML. It sits in a box that scrolls sideways, so a table
 * wider than a phone's screen does not widen the page; a shadow at an edge shows that the box hides columns past it.
 */
export function table(headers: readonly string[], rows: readonly (readonly string[])[], className = ''): string {
  const head = headers.map((h) => `<th>${esc(h)}</th>`).join('');
  const body = rows.map((r) => `<tr>${r.map((c) => `<td>${c}</td>`).join('')}</tr>`).join('');
  return `<div class="table-wrap"><table class="${className}"><thead><tr>${head}</tr></thead><tbody>${body}</tbody></table></div>`;
}

export const REPORT_CSS = `
body{font:14px/1.5 Helvetica,Arial,sans-serif;color:#222;max-width:1180px;margin:0 auto;padding:24px}
h1{font-size:26px;margin-bottom:4px}h2{border-bottom:2px solid #4c78a8;padding-bottom:4px;margin-top:40px}h3{margin-top:28px}
nav ul{columns:3;padding-left:18px}figure.chart{margin:18px 0}figure.chart figcaption{color:#555;margin-bottom:6px}
figure.chart figcaption b{color:#222;display:block;font-size:15px}
table{border-collapse:collapse;margin:10px 0;font-size:12.5px}th,td{border:1px solid #ddd;padding:3px 7px;text-align:right}
th{background:#f4f6f8}td:first-child,th:first-child{text-align:left}.gallery{display:flex;flex-wrap:wrap;gap:8px}
figure.tile{margin:0;width:96px;font-size:10.5px;text-align:center}figure.tile img{border:3px solid #ddd;border-radius:3px}
figure.tile.bad img{border-color:#e45756}figure.tile.good img{border-color:#54a24b}
.missing{width:80px;height:80px;background:#eee;display:flex;align-items:center;justify-content:center;color:#888;margin:auto}
.pair{display:inline-block;margin:6px 14px 6px 0;vertical-align:top}.pair .gallery{flex-wrap:nowrap}
.card{background:#fafbfc;border:1px solid #e1e4e8;border-radius:6px;padding:4px 18px}.warn{color:#a33}
.lime img{max-width:100%;height:auto;border:1px solid #ddd}.muted{color:#777}details{margin:8px 0}summary{cursor:pointer;font-weight:bold}
.chart-scroll,.table-wrap{overflow-x:auto;max-width:100%}table.kv td{overflow-wrap:anywhere}
.chart-scroll,.table-wrap{background:linear-gradient(to right,#fff 40%,rgba(255,255,255,0)) left/28px 100% no-repeat local,linear-gradient(to left,#fff 40%,rgba(255,255,255,0)) right/28px 100% no-repeat local,linear-gradient(to right,rgba(0,0,0,.3),rgba(0,0,0,0)) left/12px 100% no-repeat scroll,linear-gradient(to left,rgba(0,0,0,.3),rgba(0,0,0,0)) right/12px 100% no-repeat scroll}
@media (max-width:640px){body{padding:12px}nav ul{columns:1}}
@media print{body{max-width:none;padding:0}.chart-scroll,.table-wrap{overflow:visible;background:none}figure.chart svg{max-width:100%;height:auto}
figure.chart,figure.tile,figure.lime,.pair,tr{break-inside:avoid}h2,h3,h4{break-after:avoid}
details::details-content{content-visibility:visible;display:block}summary{list-style:none}summary::-webkit-details-marker{display:none}}
`;
