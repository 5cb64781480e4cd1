/**
 * The extension's commands, in the palette and (where they fit) the notebook
 * cell context menu.
 */
import { JupyterFrontEnd } from '@jupyterlab/application';
import { TranslationBundle } from '@jupyterlab/translation';
import { ICommandPalette } from '@jupyterlab/apputils';
import {
  INotebookTracker,
  NotebookActions,
  NotebookPanel
} from '@jupyterlab/notebook';

import { getCompileProject } from './api';
import { isLatexCellSource, withProjectOption } from './latexCells';
import { SIDEBAR_ID } from './sidebar';

export namespace CommandIDs {
  export const compileLatexCell = 'cocalc-magics:compile-latex-cell';
  export const showSidebar = 'cocalc-magics:show-sidebar';
}

const NO_ARGUMENTS = { args: { type: 'object' as const, properties: {} } };

/** The current notebook, when its active cell is a `%%cocalc_latex` cell. */
function latexCellNotebook(tracker: INotebookTracker): NotebookPanel | null {
  const panel = tracker.currentWidget;
  const cell = panel?.content.activeCell;
  if (!panel || !cell || cell.model.type !== 'code') {
    return null;
  }
  return isLatexCellSource(cell.model.sharedModel.getSource()) ? panel : null;
}

export function addCommands(
  app: JupyterFrontEnd,
  tracker: INotebookTracker,
  palette: ICommandPalette | null,
  trans: TranslationBundle
): void {
  app.commands.addCommand(CommandIDs.compileLatexCell, {
    label: trans.__('Compile LaTeX Cell'),
    caption: trans.__(
      'Run the active %%cocalc_latex cell (compiles it with CoCalc)'
    ),
    describedBy: NO_ARGUMENTS,
    isEnabled: () => latexCellNotebook(tracker) !== null,
    isVisible: () => latexCellNotebook(tracker) !== null,
    execute: async () => {
      const panel = latexCellNotebook(tracker);
      if (!panel) {
        return;
      }
      // The project chosen in the sidebar goes into the magic line, where
      // it stays visible and saved with the notebook; a line that names a
      // project already keeps it. Without a server extension, nothing changes.
      const cell = panel.content.activeCell!;
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
  app.commands.addCommand(CommandIDs.showSidebar, {
    label: trans.__('Show CoCalc Sidebar'),
    caption: trans.__('Show the CoCalc account and projects panel'),
    describedBy: NO_ARGUMENTS,
    execute: () => app.shell.activateById(SIDEBAR_ID)
  });

  if (palette) {
    for (const command of [
      CommandIDs.compileLatexCell,
      CommandIDs.showSidebar
    ]) {
      palette.addItem({ command, category: trans.__('CoCalc') });
    }
  }
  app.contextMenu.addItem({
    command: CommandIDs.compileLatexCell,
    selector: '.jp-Notebook .jp-CodeCell',
    rank: 0
  });
}
