import {
  ILayoutRestorer,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { ICommandPalette } from '@jupyterlab/apputils';
import { IEditorExtensionRegistry } from '@jupyterlab/codemirror';
import { INotebookTracker } from '@jupyterlab/notebook';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { ITranslator, nullTranslator } from '@jupyterlab/translation';

// Activation needs these at once: the sidebar's icon, the commands, the
// editor extensions and the notebooks' output listeners are all registered
// while the application starts (an editor made before them lacks the marks).
// eslint-disable-next-line jupyter/prefer-lazy-imports
import { addCommands } from './commands';
// eslint-disable-next-line jupyter/prefer-lazy-imports
import { registerCellMarks } from './cellMarks';
import { registerLatexCellHighlighting } from './latexCells';
// eslint-disable-next-line jupyter/prefer-lazy-imports
import { connectNotebooks, refreshAllMarks } from './latexOutputs';
// eslint-disable-next-line jupyter/prefer-lazy-imports
import { LivePreview } from './livePreview';
import { loadSettings } from './settings';
// eslint-disable-next-line jupyter/prefer-lazy-imports
import { CoCalcSidebar } from './sidebar';

const PLUGIN_ID = 'cocalc-magics:plugin';

/**
 * The cocalc-magics JupyterLab plugin: LaTeX highlighting in `%%cocalc_latex`
 * cells, clickable errors, gutter marks, SyncTeX and live preview hooks for
 * their outputs, the CoCalc sidebar (backed by the package's Jupyter server extension)
 * and the CoCalc commands.
 */
const plugin: JupyterFrontEndPlugin<void> = {
  id: PLUGIN_ID,
  description: 'Drive CoCalc from JupyterLab.',
  autoStart: true,
  requires: [INotebookTracker, IEditorExtensionRegistry],
  optional: [ICommandPalette, ISettingRegistry, ILayoutRestorer, ITranslator],
  activate: (
    app: JupyterFrontEnd,
    tracker: INotebookTracker,
    editorExtensions: IEditorExtensionRegistry,
    palette: ICommandPalette | null,
    settingRegistry: ISettingRegistry | null,
    restorer: ILayoutRestorer | null,
    translator: ITranslator | null
  ) => {
    const trans = (translator ?? nullTranslator).load('cocalc_magics');
    registerLatexCellHighlighting(editorExtensions);
    const live = new LivePreview(tracker);
    registerCellMarks(editorExtensions, model => live.edited(model));
    connectNotebooks(app, tracker, live);

    const sidebar = new CoCalcSidebar(trans);
    app.shell.add(sidebar, 'left', { rank: 900 });
    restorer?.add(sidebar, sidebar.id);

    addCommands(app, tracker, palette, trans, live);

    if (settingRegistry) {
      loadSettings(settingRegistry, PLUGIN_ID, () =>
        refreshAllMarks.forEach(refresh => refresh())
      ).catch(reason =>
        console.error('cocalc-magics: cannot load settings', reason)
      );
    }
    // The browser test looks for this line: the whole chain (TypeScript ->
    // prebuilt bundle -> wheel shared-data -> JupyterLab) works.
    console.log('cocalc-magics: JupyterLab extension activated');
  }
};

export default plugin;
