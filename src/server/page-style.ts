/**
 * The web page's stylesheet, served as GET /app.css (a file of its own, so the page runs under a
 * Content-Security-Policy of `style-src 'self'`: no inline style element or attribute). Box and
 * label positions are set from the script through the CSSOM, which such a policy allows.
 */
export const PAGE_STYLE = `
*, *::before, *::after { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
body { font: 15px/1.45 system-ui, sans-serif; margin: 0; color: #1d232b; background: #f6f7f9; }
main { max-width: 72rem; margin: 0 auto; padding: 1.5rem; }
h1 { font-size: 1.3rem; margin: 0 0 .3rem; }
h2 { font-size: 1.05rem; margin: 0 0 .4rem; }
h3 { font-size: .95rem; margin: .8rem 0 .2rem; }
p, li { overflow-wrap: anywhere; }
p.note { color: #4a5563; margin: 0 0 1rem; max-width: 48rem; }
.drop { display: block; width: 100%; font: inherit; color: inherit; border: 2px dashed #6b7787; border-radius: 10px; padding: 1.4rem 1rem; text-align: center; background: #fff; cursor: pointer; }
.drop:hover, .drop.over { border-color: #1d4ed8; background: #eef4ff; }
.drop:focus-visible, select:focus-visible, input:focus-visible { outline: 3px solid #1d4ed8; outline-offset: 2px; }
.drop-title { display: block; font-weight: 600; font-size: 1.05rem; }
.drop-help { display: block; color: #4a5563; font-size: .9rem; }
.options { display: flex; flex-wrap: wrap; gap: .4rem 1.2rem; align-items: center; margin: .8rem 0; }
.options label { font: inherit; }
select { font: inherit; padding: .15rem .3rem; }
.hint { color: #4a5563; }
#status { margin: .6rem 0; min-height: 1.4em; overflow-wrap: anywhere; }
#status.error { color: #b42318; }
#status.warn, .note.warn { color: #8a4b00; }
.stage { position: relative; display: inline-block; max-width: 100%; margin: 0; vertical-align: top; }
#photo { display: block; max-width: 100%; max-height: 70vh; height: auto; }
#photo:not([src]), #photo[hidden] { display: none; }
.face-box { position: absolute; border: 2px solid #facc15; box-shadow: 0 0 0 1px #0009; pointer-events: none; }
.face-label { position: absolute; white-space: nowrap; background: #facc15; color: #111; font-size: 12px; line-height: 16px; padding: 0 5px; border-radius: 3px; box-shadow: 0 0 0 1px #0006; pointer-events: none; }
.face-label.short { font-weight: 700; }
.faces { list-style: none; padding: 0; margin: 1rem 0; display: grid; grid-template-columns: repeat(auto-fill, minmax(min(100%, 13rem), 1fr)); gap: 1rem; }
.face-card { background: #fff; border-radius: 8px; padding: .6rem; box-shadow: 0 1px 3px #0002; font-size: 13px; min-width: 0; }
.face-card p { margin: 0 0 .4rem; }
.face-text { font-weight: 600; }
.face-card img { width: 100%; max-width: 200px; aspect-ratio: 1; display: block; background: #ddd; }
.face-card img:not([src]) { display: none; }
.face-card .pending { color: #4a5563; font-style: italic; margin: .4rem 0 0; }
.about { background: #fff; border-radius: 8px; padding: .8rem 1rem; box-shadow: 0 1px 3px #0002; max-width: 48rem; margin-top: 1.5rem; font-size: 14px; }
.about ul { margin: .2rem 0; padding-left: 1.2rem; }
.about p { margin: .2rem 0; }
@media (max-width: 600px) {
  main { padding: 1rem .75rem; }
  .drop { padding: 1rem .75rem; }
}
`;
