/**
 * "Open PDF in a New Tab": the cell's latest PDF in its own tab, shown by the
 * browser's own PDF viewer (Chromium's PDFium, Firefox's pdf.js): page
 * thumbnails, search and zoom for long documents.
 *
 * The PDF is the one behind the viewer's download link (`a[download]` in the
 * cell's output). A link this page can read (a `blob:` URL, or one on Jupyter's
 * own origin) is copied into a blob URL of the tab's own and shown in a
 * JupyterLab main-area tab (an iframe); the copy outlives a re-run that
 * replaces the link and is freed when the tab closes. CoCalc's own blob URLs
 * are on another origin, sent without CORS and as attachments
 * (hub/servers/app/blobs.ts, since 2026-02): the page cannot read them, so they
 * open in a new browser tab instead (`window.open`), where the browser shows
 * or saves the PDF.
 */
import { JupyterFrontEnd } from '@jupyterlab/application';
import { MainAreaWidget } from '@jupyterlab/apputils';
import type { Cell, CodeCell } from '@jupyterlab/cells';
import { TranslationBundle } from '@jupyterlab/translation';
import { Widget } from '@lumino/widgets';

/** Only links to a document; never `javascript:` or `data:` from an output. */
const OPENABLE_SCHEMES = new Set(['blob:', 'http:', 'https:']);

/** The PDF link of the cell's output: its last `a[download]` to a document URL. */
export function pdfLinkOf(cell: Cell): HTMLAnchorElement | null {
  if (cell.model.type !== 'code') {
    return null;
  }
  const links = Array.from(
    (cell as CodeCell).outputArea.node.querySelectorAll<HTMLAnchorElement>(
      'a[download][href]'
    )
  ).filter(link => OPENABLE_SCHEMES.has(link.protocol));
  return links.length > 0 ? links[links.length - 1] : null;
}

let tabCount = 0;

/** How the PDF was opened: in a JupyterLab tab, or in a new browser tab. */
export type OpenedAs = 'lab-tab' | 'browser-tab';

export async function openPdfTab(
  app: JupyterFrontEnd,
  link: HTMLAnchorElement,
  trans: TranslationBundle
): Promise<OpenedAs> {
  const name = link.download || trans.__('document.pdf');
  if (link.protocol !== 'blob:' && link.origin !== window.location.origin) {
    // Opened at once, while the click that asked for it still counts as
    // the user's gesture (a browser blocks later pop-ups).
    window.open(link.href, '_blank', 'noopener');
    return 'browser-tab';
  }
  const response = await fetch(link.href);
  if (!response.ok) {
    throw new Error(`cannot read the PDF: HTTP ${response.status}`);
  }
  const bytes = await response.blob();
  const url = URL.createObjectURL(
    new Blob([bytes], { type: 'application/pdf' })
  );
  const content = new Widget();
  content.addClass('cocalc-pdf-tab');
  const frame = document.createElement('iframe');
  frame.src = url;
  frame.title = name;
  content.node.appendChild(frame);
  const widget = new MainAreaWidget({ content });
  widget.id = `cocalc-pdf-tab-${++tabCount}`;
  widget.title.label = name;
  widget.title.closable = true;
  widget.disposed.connect(() => URL.revokeObjectURL(url));
  app.shell.add(widget, 'main', { mode: 'split-right' });
  app.shell.activateById(widget.id);
  return 'lab-tab';
}
