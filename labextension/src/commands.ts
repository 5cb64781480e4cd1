/**
 * The extension's commands, in the palette and (where they fit) the notebook
 * cell context menu.
 */
import { JupyterFrontEnd } from '@jupyterlab/application';
import { TranslationBundle } from '@jupyterlab/translation';
import { ICommandPalette, Notification } from '@jupyterlab/apputils';
import { INotebookTracker, NotebookActions } from '@jupyterlab/notebook';

import { getCompileProject } from './api';
import { activeLatexCell } from './cellTools';
import { withProjectOption } from './latexCells';
import { LivePreview } from './livePreview';
import { openPdfTab, pdfLinkOf } from './pdfTab';
import { showInPdf } from './synctex';
import { SIDEBAR_ID } from './sidebar';

export namespace CommandIDs {
  export const compileLatexCell = 'cocalc-magics:compile-latex-cell';
  export const showSidebar = 'cocalc-magics:show-sidebar';
  export const showInPdf = 'cocalc-magics:show-in-pdf';
  export const toggleLivePreview = 'cocalc-magics:toggle-live-preview';
  export const openPdfTab = 'cocalc-magics:open-pdf-tab';
}

const NO_ARGUMENTS = { args: { type: 'object' as const, properties: {} } };

/** The commands that act on the active `%%cocalc_latex` cell. */
const LATEX_CELL_COMMANDS = [
  CommandIDs.compileLatexCell,
  CommandIDs.showInPdf,
  CommandIDs.toggleLivePreview,
  CommandIDs.openPdfTab
];

export function addCommands(
  app: JupyterFrontEnd,
  tracker: INotebookTracker,
  palette: ICommandPalette | null,
  trans: TranslationBundle,
  live: LivePreview
): void {
  const onLatexCell = {
    isEnabled: () => activeLatexCell(tracker) !== null,
    isVisible: () => activeLatexCell(tracker) !== null
  };
  app.commands.addCommand(CommandIDs.compileLatexCell, {
    label: trans.__('Compile LaTeX Cell'),
    caption: trans.__(
      'Run the active %%cocalc_latex cell (compiles it with CoCalc)'
    ),
    describedBy: NO_ARGUMENTS,
    ...onLatexCell,
    execute: async () => {
      const active = activeLatexCell(tracker);
      if (!active) {
        return;
      }
      const { panel, cell } = active;
      // The project chosen in the sidebar goes into the magic line, where
      // it stays visible and saved with the notebook; a line that names a
      // project already keeps it. Without a server extension, nothing changes.
      const chosen = await getCompileProject().catch(() => null);
      if (chosen?.project_id) {
        const source = cell.model.sharedModel.getSource();
        const updated = withProjectOption(source, chosen.project_id);
        if (updated !== source) {
          cell.model.sharedModel.setSource(updated);
        }
      }
      // The cell's own magic compiles it: running it keeps one code path,
      // with or without this extension.
      await NotebookActions.run(panel.content, panel.sessionContext);
    }
  });
  app.commands.addCommand(CommandIDs.showInPdf, {
    label: trans.__('Show in PDF'),
    caption: trans.__(
      "Turn the cell's PDF preview to the cursor line (forward SyncTeX)"
    ),
    describedBy: NO_ARGUMENTS,
    ...onLatexCell,
    execute: () => {
      const active = activeLatexCell(tracker);
      if (active && !showInPdf(active.cell)) {
        Notification.warning(
          trans.__('This cell has no PDF preview yet: run it first.'),
          { autoClose: 4000 }
        );
      }
    }
  });
  app.commands.addCommand(CommandIDs.toggleLivePreview, {
    label: trans.__('Toggle Live Preview'),
    caption: trans.__(
      'Recompile the LaTeX cell into its preview when typing pauses'
    ),
    describedBy: NO_ARGUMENTS,
    ...onLatexCell,
    isToggled: () => {
      const active = activeLatexCell(tracker);
      return active !== null && live.isLive(active.cell);
    },
    execute: () => {
      const active = activeLatexCell(tracker);
      if (active) {
        live.setLive(active.cell, !live.isLive(active.cell));
      }
    }
  });
  app.commands.addCommand(CommandIDs.openPdfTab, {
    label: trans.__('Open PDF in a New Tab'),
    caption: trans.__("Open the cell's latest PDF in a tab of its own"),
    describedBy: NO_ARGUMENTS,
    isVisible: onLatexCell.isVisible,
    isEnabled: () => {
      const active = activeLatexCell(tracker);
      return active !== null && pdfLinkOf(active.cell) !== null;
    },
    execute: async () => {
      const active = activeLatexCell(tracker);
      const link = active && pdfLinkOf(active.cell);
      if (!link) {
        return null;
      }
      return openPdfTab(app, link, trans).catch(reason => {
        Notification.error(String(reason), { autoClose: 6000 });
        return null;
      });
    }
  });
  app.commands.addCommand(CommandIDs.showSidebar, {
    label: trans.__('Show CoCalc Sidebar'),
    caption: trans.__('Show the CoCalc account and projects panel'),
    describedBy: NO_ARGUMENTS,
    execute: () => app.shell.activateById(SIDEBAR_ID)
  });

  if (palette) {
    for (const command of [...LATEX_CELL_COMMANDS, CommandIDs.showSidebar]) {
      palette.addItem({ command, category: trans.__('CoCalc') });
    }
  }
  LATEX_CELL_COMMANDS.forEach((command, rank) =>
    app.contextMenu.addItem({
      command,
      selector: '.jp-Notebook .jp-CodeCell',
      rank
    })
  );
}
