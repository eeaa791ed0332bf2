/** How the cells of a column are to be shown; tables hand over raw numbers and let the writer format them. */
export type ColumnKind = 'text' | 'count' | 'milliseconds' | 'bytes' | 'number' | 'three-decimals' | 'per-second' | 'percent-change';

export interface TableColumn {
  header: string;
  kind: ColumnKind;
}
