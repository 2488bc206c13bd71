/**
 * The dashboard JSON model as Grafana publishes it (`@grafana/schema`: the v1 dashboard,
 * its panels and variables, and each panel plugin's options and field config), adapted
 * to what a JSON file can say, for {@linkcode checkDashboardTypes}:
 *
 * - enums become the union of their values (`"absolute"` rather than
 *   `ThresholdsMode.Absolute`), since JSON has no enums;
 * - a panel's `type` selects the options and custom field config of that plugin, so a
 *   misspelt or misplaced option is an excess property;
 * - panel options and custom field config may be partial: Grafana fills in defaults for
 *   what a provisioned file leaves out;
 * - targets are Prometheus queries (the only data source we provision), whose model
 *   Grafana ships with the plugin rather than in `@grafana/schema`.
 *
 * @module
 */
import type {
  Dashboard,
  DataQuery,
  DataSourceRef,
  FieldConfig,
  FieldConfigSource,
  Panel,
  RowPanel,
  VariableModel,
} from "@grafana/schema";
import type * as BarGauge from "@grafana/schema/dist/esm/raw/composable/bargauge/panelcfg/x/BarGaugePanelCfg_types.gen";
import type * as Gauge from "@grafana/schema/dist/esm/raw/composable/gauge/panelcfg/x/GaugePanelCfg_types.gen";
import type * as Stat from "@grafana/schema/dist/esm/raw/composable/stat/panelcfg/x/StatPanelCfg_types.gen";
import type * as StateTimeline from "@grafana/schema/dist/esm/raw/composable/statetimeline/panelcfg/x/StateTimelinePanelCfg_types.gen";
import type * as Table from "@grafana/schema/dist/esm/raw/composable/table/panelcfg/x/TablePanelCfg_types.gen";
import type * as TimeSeries from "@grafana/schema/dist/esm/raw/composable/timeseries/panelcfg/x/TimeSeriesPanelCfg_types.gen";

/** `T` as JSON can write it: string enums as their values, recursively. */
export type Json<T> = T extends string ? `${T}`
  : T extends number | boolean | null | undefined ? T
  : T extends readonly (infer U)[] ? Json<U>[]
  : T extends object ? { [K in keyof T]: Json<T[K]> }
  : T;

/** `T` with every property optional, recursively (arrays keep their element type). */
export type DeepPartial<T> = T extends readonly (infer U)[] ? DeepPartial<U>[]
  : T extends object ? { [K in keyof T]?: DeepPartial<T[K]> }
  : T;

/**
 * A Prometheus query target, after the Prometheus plugin's `PromQuery` (Grafana's
 * `public/app/plugins/datasource/prometheus/dataquery.cue`).
 */
export type PrometheusTarget = Json<DataQuery> & {
  expr: string;
  legendFormat?: string;
  instant?: boolean;
  range?: boolean;
  exemplar?: boolean;
  format?: "time_series" | "table" | "heatmap";
  interval?: string;
  intervalFactor?: number;
  editorMode?: "code" | "builder";
};

/** A panel of plugin `Type` with that plugin's options and custom field config. */
type PluginPanel<Type extends string, Options, Custom = Record<string, never>> =
  & Omit<Json<Panel>, "type" | "options" | "fieldConfig" | "targets" | "datasource">
  & {
    type: Type;
    datasource?: Json<DataSourceRef>;
    options?: DeepPartial<Json<Options>>;
    fieldConfig?: {
      defaults: Omit<Json<FieldConfig>, "custom"> & { custom?: DeepPartial<Json<Custom>> };
      overrides: Json<FieldConfigSource["overrides"]>;
    };
    targets?: PrometheusTarget[];
  };

/** Every panel plugin our dashboards use. Add one here to use it. */
export type TypedPanel =
  | PluginPanel<"timeseries", TimeSeries.Options, TimeSeries.FieldConfig>
  | PluginPanel<"stat", Stat.Options>
  | PluginPanel<"gauge", Gauge.Options>
  | PluginPanel<"bargauge", BarGauge.Options>
  | PluginPanel<"state-timeline", StateTimeline.Options, StateTimeline.FieldConfig>
  | PluginPanel<"table", Table.Options, Table.FieldConfig>;

/** A row, holding its panels when collapsed. */
export type TypedRow = Omit<Json<RowPanel>, "panels"> & { panels: TypedPanel[] };

/**
 * A template variable. `definition` is the query text Grafana's editor shows for query
 * variables; Grafana writes it in every saved dashboard but the schema does not list it.
 */
export type TypedVariable = Json<VariableModel> & { definition?: string };

/** A dashboard file under grafana/dashboards/. */
export type TypedDashboard = Omit<Json<Dashboard>, "panels" | "templating"> & {
  panels: (TypedPanel | TypedRow)[];
  templating: { list: TypedVariable[] };
};
