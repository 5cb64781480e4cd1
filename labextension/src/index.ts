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

// Activation needs these at once: the sidebar's icon, the commands and the
// editor extension are all registered while the application starts.
// eslint-disable-next-line jupyter/prefer-lazy-imports
import { addCommands } from './commands';
import { registerLatexCellHighlighting } from './latexCells';
import { loadSettings } from './settings';
// eslint-disable-next-line jupyter/prefer-lazy-imports
import { CoCalcSidebar } from './sidebar';

const PLUGIN_ID = 'cocalc-magics:plugin';

/**
 * The cocalc-magics JupyterLab plugin: LaTeX highlighting in `%%cocalc_latex`
 * cells, the CoCalc sidebar (backed by the package's Jupyter server extension)
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

    const sidebar = new CoCalcSidebar(trans);
    app.shell.add(sidebar, 'left', { rank: 900 });
    restorer?.add(sidebar, sidebar.id);

    addCommands(app, tracker, palette, trans);

    if (settingRegistry) {
      loadSettings(settingRegistry, PLUGIN_ID).catch(reason =>
        console.error('cocalc-magics: cannot load settings', reason)
      );
    }
    // The browser test looks for this line: the whole chain (TypeScript ->
    // prebuilt bundle -> wheel shared-data -> JupyterLab) works.
    console.log('cocalc-magics: JupyterLab extension activated');
  }
};

export default plugin;
