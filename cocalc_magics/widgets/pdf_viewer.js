// The PDF viewer's front-end helper (an anywidget inside the viewer's box). It tells the kernel what only
// the browser knows -- the page area's width, the window's height and the screen's devicePixelRatio -- so
// the kernel renders pages sharp and fitting, and it turns keys pressed while the viewer has focus into
// page turns. It draws nothing itself but the SyncTeX mark.
// It is also the viewer's end of the LaTeX output contract's DOM events (CustomEvents, bubbles + composed,
// dispatched from / listened for on the viewer's root element, class cocalc-pdf-viewer): a click on the page
// goes to the kernel as fractions of the image, which answers with the line -> "cocalc-magics:goto-line";
// "cocalc-magics:show-line" -> the kernel turns the page and answers where to mark; "cocalc-magics:live-text"
// -> the kernel recompiles; the synced "live" trait is announced as "cocalc-magics:live-state".
const MARK_MS = 2000;
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
    const dispatch = (name, detail) => root && root.dispatchEvent(
      new CustomEvent(name, { detail, bubbles: true, composed: true }));
    const pageNumber = () => {
      const input = root && root.querySelector(".cocalc-pdf-page-input input");
      return input ? parseInt(input.value, 10) : 1;
    };
    const onClick = (event) => {
      const image = event.target && event.target.closest && event.target.closest("img.cocalc-pdf-page");
      if (!image || !image.clientWidth || !image.clientHeight) return;
      const rect = image.getBoundingClientRect();
      send({ event: "click", page: pageNumber(),
             x: (event.clientX - rect.left - image.clientLeft) / image.clientWidth,
             y: (event.clientY - rect.top - image.clientTop) / image.clientHeight });
    };
    const onShowLine = (event) => {
      const line = event.detail && event.detail.line;
      if (Number.isInteger(line)) send({ event: "show-line", line });
    };
    const onLiveText = (event) => {
      const text = event.detail && event.detail.text;
      if (typeof text === "string") send({ event: "live-text", text });
    };
    const announceLive = () => {
      const live = model.get("live");
      if (live === true || live === false) dispatch("cocalc-magics:live-state", { live });
    };
    const drawMark = (mark) => {
      const image = root && root.querySelector("img.cocalc-pdf-page");
      if (!image || !box) return;
      if (getComputedStyle(box).position === "static") box.style.position = "relative";
      const spot = document.createElement("div");
      spot.className = "cocalc-pdf-synctex-mark";
      const left = image.offsetLeft + image.clientLeft, top = image.offsetTop + image.clientTop;
      Object.assign(spot.style, {
        position: "absolute", pointerEvents: "none", boxSizing: "border-box",
        left: `${left + mark.x * image.clientWidth - 2}px`, top: `${top + mark.y * image.clientHeight - 2}px`,
        width: `${mark.width * image.clientWidth + 4}px`, height: `${mark.height * image.clientHeight + 4}px`,
        background: "rgba(255, 200, 0, 0.35)", border: "2px solid rgba(230, 140, 0, 0.9)", borderRadius: "3px",
      });
      box.appendChild(spot);
      if (spot.scrollIntoView) spot.scrollIntoView({ block: "nearest", inline: "nearest" });
      setTimeout(() => spot.remove(), MARK_MS);
    };
    const onMessage = (content) => {
      if (!content || !root) return;
      if (content.event === "goto-line" && Number.isInteger(content.line)) {
        dispatch("cocalc-magics:goto-line", { line: content.line, file: content.file || "cell" });
      } else if (content.event === "mark") {
        drawMark(content);
      }
    };
    model.on("msg:custom", onMessage);
    model.on("change:live", announceLive);
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
      root.addEventListener("click", onClick);
      root.addEventListener("cocalc-magics:show-line", onShowLine);
      root.addEventListener("cocalc-magics:live-text", onLiveText);
      resizer = new ResizeObserver(soon);
      resizer.observe(box);
      report();
      announceLive();
    };
    attach();
    window.addEventListener("resize", soon);
    return () => {
      done = true;
      clearTimeout(timer);
      if (resizer) resizer.disconnect();
      model.off("msg:custom", onMessage);
      model.off("change:live", announceLive);
      if (root) {
        root.removeEventListener("keydown", onKey);
        root.removeEventListener("click", onClick);
        root.removeEventListener("cocalc-magics:show-line", onShowLine);
        root.removeEventListener("cocalc-magics:live-text", onLiveText);
      }
      window.removeEventListener("resize", soon);
    };
  },
};
