const NARROW_SPACE = '\u202f';
const MINUS = '\u2212';
/** Below this, ticks are written out in full (25 000); from it on with a unit (1.5 M). */
const FULL_NUMBERS_BELOW = 1e5;
const UNITS = [
  { factor: 1e12, suffix: 'T' },
  { factor: 1e9, suffix: 'G' },
  { factor: 1e6, suffix: 'M' },
  { factor: 1e3, suffix: 'k' },
];
const NO_UNIT = { factor: 1, suffix: '' };
const MAX_DECIMALS = 6;

/**
 * A formatter for one axis' tick values: all labels share one unit (chosen by the largest
 * tick) and as many decimals as the ticks need, e.g. 0, 2 500, 5 000 or 0.5 M, 1 M, 1.5 M.
 */
export function tickFormatter(ticks: readonly number[]): (value: number) => string {
  const largest = ticks.reduce((max, tick) => Math.max(max, Math.abs(tick)), 0);
  const unit = (largest >= FULL_NUMBERS_BELOW && UNITS.find(({ factor }) => largest >= factor)) || NO_UNIT;
  const decimals = ticks.reduce((max, tick) => Math.max(max, decimalsNeeded(tick / unit.factor)), 0);
  const suffix = unit.suffix === '' ? '' : `${NARROW_SPACE}${unit.suffix}`;
  // A bare 0 reads better than 0.0 M and is the same in every unit.
  return (value) => (value === 0 ? '0' : `${formatNumber(value / unit.factor, decimals)}${suffix}`);
}

/** Fixed decimals, thousands grouped by a narrow space, a real minus sign. */
export function formatNumber(value: number, decimals: number): string {
  const fixed = Math.abs(value).toFixed(decimals);
  const [integer = '0', fraction] = fixed.split('.');
  const grouped = integer.replace(/\B(?=(\d{3})+$)/g, NARROW_SPACE);
  const sign = value < 0 && Number(fixed) !== 0 ? MINUS : '';
  return `${sign}${grouped}${fraction === undefined ? '' : `.${fraction}`}`;
}

function decimalsNeeded(value: number): number {
  const tolerance = 1e-9 * Math.max(1, Math.abs(value));
  for (let decimals = 0; decimals < MAX_DECIMALS; decimals++) {
    if (Math.abs(Number(value.toFixed(decimals)) - value) <= tolerance) return decimals;
  }
  return MAX_DECIMALS;
}
