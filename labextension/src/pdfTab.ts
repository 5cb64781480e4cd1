/**
 * "Open PDF in a New Tab": the cell's latest PDF in a JupyterLab main-area tab,
 * shown by the browser's own PDF viewer (Chromium's is PDFium, Firefox's is
 * pdf.js) in an iframe — page thumbnails, search and zoom for long documents.
 *
 * The PDF is the one behind the viewer's download link (`a[download]` in the
 * cell's output, a blob: URL of this page). The tab copies it into a blob URL
 * of its own, so a re-run that replaces the viewer's link does not blank the
 * tab; the copy is released when the tab closes.
 */
import { JupyterFrontEnd } from '@jupyterlab/application';
import { MainAreaWidget } from '@jupyterlab/apputils';
import type { Cell, CodeCell } from '@jupyterlab/cells';
import { TranslationBundle } from '@jupyterlab/translation';
import { Widget } from '@lumino/widgets';

/** The PDF link of the cell's output: the newest `a[download]` with a blob: URL. */
export function pdfLinkOf(cell: Cell): HTMLAnchorElement | null {
  if (cell.model.type !== 'code') {
    return null;
  }
  const links = Array.from(
    (cell as CodeCell).outputArea.node.querySelectorAll<HTMLAnchorElement>(
      'a[download]'
    )
  ).filter(link => link.href.startsWith('blob:'));
  return links.length > 0 ? links[links.length - 1] : null;
}

let tabCount = 0;

export async function openPdfTab(
  app: JupyterFrontEnd,
  link: HTMLAnchorElement,
  trans: TranslationBundle
): Promise<MainAreaWidget> {
  const name = link.download || trans.__('document.pdf');
  const bytes = await (await fetch(link.href)).blob();
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
  return widget;
}
