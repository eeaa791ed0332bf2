/**
 * Advance widths of DejaVu Sans (the font the charts ask for) for ASCII 32..126, in
 * thousandths of an em, read from DejaVuSans.ttf; layout needs them before any renderer runs.
 */
const ASCII_WIDTHS = [
  318, 401, 460, 838, 636, 950, 780, 275, 390, 390, 500, 838, 318, 361, 318, 337, 636, 636, 636, 636, 636, 636, 636,
  636, 636, 636, 337, 337, 838, 838, 838, 531, 1000, 684, 686, 698, 770, 632, 575, 775, 752, 295, 295, 656, 557, 863,
  748, 787, 603, 787, 695, 635, 611, 732, 684, 989, 685, 611, 685, 390, 337, 390, 838, 500, 500, 613, 635, 550, 635,
  615, 352, 635, 634, 278, 278, 579, 278, 974, 634, 612, 635, 635, 411, 521, 392, 634, 592, 818, 592, 592, 525, 636,
  337, 636, 838,
];
const OTHER_WIDTHS: Record<string, number> = {
  '\u202f': 200,
  '\u2212': 838,
  '\u2026': 1000,
  '\u00b1': 838,
  '\u2264': 838,
};
/** Generous, so that unexpected characters rather leave room than overlap. */
const UNKNOWN_WIDTH = 700;
/** DejaVu Sans Bold is about a tenth wider. */
const BOLD_FACTOR = 1.1;

export function textWidth(text: string, fontSize: number, bold = false): number {
  let thousandths = 0;
  for (const char of text) {
    const code = char.codePointAt(0) ?? 0;
    thousandths += ASCII_WIDTHS[code - 32] ?? OTHER_WIDTHS[char] ?? UNKNOWN_WIDTH;
  }
  return (thousandths / 1000) * fontSize * (bold ? BOLD_FACTOR : 1);
}

/** The text itself when it fits, otherwise its longest prefix that fits with an ellipsis. */
export function fitText(text: string, maxWidth: number, fontSize: number, bold = false): string {
  if (textWidth(text, fontSize, bold) <= maxWidth) return text;
  const chars = [...text];
  while (chars.length > 0 && textWidth(`${chars.join('')}\u2026`, fontSize, bold) > maxWidth) chars.pop();
  return `${chars.join('')}\u2026`;
}
