/**
 * Field-by-field check of a five-field cron expression, so that a typo in temporal.yaml is reported
 * at start with the field it is in, instead of by the Temporal server at the first schedule sync.
 */

const MONTH_NAMES = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const DAY_NAMES = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

interface CronField {
  name: string;
  min: number;
  max: number;
  /** Names accepted for the values min, min + 1, ... (three letters, any case). */
  names?: string[];
}

const FIELDS: CronField[] = [
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day-of-month', min: 1, max: 31 },
  { name: 'month', min: 1, max: 12, names: MONTH_NAMES },
  // 7 is Sunday too, as in most cron dialects and in Temporal's.
  { name: 'day-of-week', min: 0, max: 7, names: DAY_NAMES },
];

/** What is wrong with one value ("25", "FUNDAY") of a field, or its number. */
function valueOf(field: CronField, text: string): number | string {
  const named = field.names?.indexOf(text.toUpperCase()) ?? -1;
  if (named >= 0) return field.min + named;
  if (!/^\d+$/.test(text)) {
    const names = field.names ? ` or a name ${field.names[0]}-${field.names[field.names.length - 1]}` : '';
    return `"${text}" is not a number${names}`;
  }
  const n = Number(text);
  return n < field.min || n > field.max ? `"${text}" is out of range ${field.min}-${field.max}` : n;
}

/** What is wrong with one comma-separated item: `*`, `v`, `a-b`, each optionally with `/step`. */
function itemProblem(field: CronField, item: string): string | undefined {
  const [base, step, extra] = item.split('/');
  if (extra !== undefined) return `"${item}" has more than one "/"`;
  if (step !== undefined && !/^[1-9]\d*$/.test(step))
    return `"${item}": the step after "/" must be a whole number of at least 1`;
  if (base === '*') return undefined;
  const bounds = base.split('-');
  if (bounds.length > 2 || bounds.some((b) => b === ''))
    return `"${item}" is not a value, a range "a-b" or "*"`;
  const values = bounds.map((b) => valueOf(field, b));
  const problem = values.find((v) => typeof v === 'string');
  if (problem !== undefined) return bounds.length > 1 ? `${problem} (in "${item}")` : problem;
  if (values.length === 2 && values[0] > values[1]) return `"${item}" is a range that ends before it starts`;
  return undefined;
}

/**
 * Undefined for a valid expression, else a message naming the field, e.g.
 * `cron field 2 (hour) "25" is out of range 0-23`.
 */
export function cronProblem(expression: string): string | undefined {
  const parts = expression.trim().split(/\s+/);
  if (parts.length !== FIELDS.length)
    return `a cron expression has five fields: minute hour day-of-month month day-of-week (got ${parts.length})`;
  for (const [i, field] of FIELDS.entries()) {
    for (const item of parts[i].split(',')) {
      const problem = item === '' ? `"${parts[i]}" has an empty list item` : itemProblem(field, item);
      if (problem) return `cron field ${i + 1} (${field.name}) ${problem}`;
    }
  }
  return undefined;
}

/**
 * The values each field of a valid expression matches, in field order (minute, hour, day-of-month,
 * month 1-12, day-of-week 0-6 with 7 folded onto Sunday). `a/n` runs from a to the field's end.
 */
export function cronValues(expression: string): Set<number>[] {
  const problem = cronProblem(expression);
  if (problem) throw new Error(problem);
  return expression
    .trim()
    .split(/\s+/)
    .map((part, i) => {
      const field = FIELDS[i];
      const values = new Set<number>();
      for (const item of part.split(',')) {
        const [base, step] = item.split('/');
        const [from, to] =
          base === '*' ? [field.min, field.max] : base.split('-').map((b) => valueOf(field, b) as number);
        const end = to ?? (step ? field.max : from);
        for (let v = from; v <= end; v += Number(step ?? 1)) values.add(i === 4 && v === 7 ? 0 : v);
      }
      return values;
    });
}
