import {
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';

/**
 * The cocalc-magics JupyterLab plugin.
 *
 * For now it only announces itself: the browser test looks for this console
 * line to prove that the whole chain (TypeScript -> prebuilt bundle -> wheel
 * shared-data -> JupyterLab) works.
 */
const plugin: JupyterFrontEndPlugin<void> = {
  id: 'cocalc-magics:plugin',
  description: 'Drive CoCalc from JupyterLab.',
  autoStart: true,
  activate: (app: JupyterFrontEnd) => {
    console.log('cocalc-magics: JupyterLab extension activated');
  }
};

export default plugin;
