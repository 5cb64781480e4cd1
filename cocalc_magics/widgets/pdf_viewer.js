// The PDF viewer's front-end helper (an anywidget inside the viewer's box). It tells the kernel what only
// the browser knows -- the page area's width, the window's height and the screen's devicePixelRatio -- so
// the kernel renders pages sharp and fitting, and it turns keys pressed while the viewer has focus into
// page turns. It draws nothing itself.
const KEYS = {
  ArrowLeft: "previous", ArrowUp: "previous", PageUp: "previous",
  ArrowRight: "next", ArrowDown: "next", PageDown: "next",
  Home: "first", End: "last",
};

export default {
  render({ model, el }) {
    let root = null, box = null, tries = 0, done = false, resizer = null, timer = null, last = "";
    const send = (content) => { try { model.send(content); } catch (error) { /* model closed */ } };
    const report = () => {
      if (!box) return;
      const size = { width: Math.round(box.clientWidth), height: Math.round(window.innerHeight),
                     dpr: window.devicePixelRatio || 1 };
      const key = JSON.stringify(size);
      if (key !== last && size.width > 0) { last = key; send({ event: "size", ...size }); }
    };
    const soon = () => { clearTimeout(timer); timer = setTimeout(report, 150); };
    const onKey = (event) => {
      const action = KEYS[event.key];
      if (!action || event.altKey || event.ctrlKey || event.metaKey) return;
      // The page-number box keeps its own keys (Home/End move the caret there).
      if (event.target && event.target.closest && event.target.closest("input, textarea")) return;
      event.preventDefault();
      event.stopPropagation();
      send({ event: "key", action });
    };
    const attach = () => {
      if (done) return;
      root = el.isConnected && el.closest(".cocalc-pdf-viewer");
      if (!root) { if (tries++ < 100) setTimeout(attach, 100); return; }
      box = root.querySelector(".cocalc-pdf-page-box") || root;
      // Focusable, and Lumino's shortcuts (JupyterLab's command mode: arrows move between cells) step
      // aside while the focus is inside the viewer.
      root.tabIndex = 0;
      root.setAttribute("data-lm-suppress-shortcuts", "true");
      root.setAttribute("data-p-suppress-shortcuts", "true");
      root.addEventListener("keydown", onKey);
      resizer = new ResizeObserver(soon);
      resizer.observe(box);
      report();
    };
    attach();
    window.addEventListener("resize", soon);
    return () => {
      done = true;
      clearTimeout(timer);
      if (resizer) resizer.disconnect();
      if (root) root.removeEventListener("keydown", onKey);
      window.removeEventListener("resize", soon);
    };
  },
};
