/** A chart of the report, written as SVG and PNG files. */
export interface Figure {
  /** File name stem of its SVG and PNG. */
  id: string;
  title: string;
  caption: string;
  svg: string;
}
