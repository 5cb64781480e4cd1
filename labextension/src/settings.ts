/**
 * The extension's user settings (schema/plugin.json): the live preview reads
 * its delay at each pause in typing, the gutter marks are redrawn when their
 * switch changes. The default zoom is stored but not passed on yet: the PDF
 * viewer (cocalc_magics/widgets/pdf_viewer.js) has no hook that takes it.
 */
import { ISettingRegistry } from '@jupyterlab/settingregistry';

export interface ICoCalcSettings {
  /** Milliseconds after typing stops before a live preview recompiles. */
  livePreviewDelay: number;
  /** The PDF viewer's zoom when it opens (1 = 100 %). */
  defaultZoom: number;
  /** Mark TeX error and warning lines in the cell editor's gutter. */
  gutterMarks: boolean;
}

export const DEFAULT_SETTINGS: ICoCalcSettings = {
  livePreviewDelay: 800,
  defaultZoom: 1,
  gutterMarks: true
};

/** The current settings, kept up to date when the user changes them. */
export const currentSettings: ICoCalcSettings = { ...DEFAULT_SETTINGS };

export async function loadSettings(
  registry: ISettingRegistry,
  pluginId: string,
  onChange: () => void = () => undefined
): Promise<ICoCalcSettings> {
  const settings = await registry.load(pluginId);
  const read = (): void => {
    Object.assign(
      currentSettings,
      settings.composite as Partial<ICoCalcSettings>
    );
  };
  read();
  settings.changed.connect(() => {
    read();
    onChange();
  });
  return currentSettings;
}
