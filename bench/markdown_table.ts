import type { BenchRow } from "./bench_suite.ts";

/**
 * Renders rows as Markdown: one table per distinct `row.table`, in first-seen order;
 * columns are `path`, the union of the rows' value names, then `note`.
 */
export function markdownTables(rows: readonly BenchRow[]): string {
  const tables = new Map<string, BenchRow[]>();
  for (const row of rows) tables.set(row.table, [...(tables.get(row.table) ?? []), row]);
  const out: string[] = [];
  for (const [title, group] of tables) {
    const columns = [...new Set(group.flatMap((row) => Object.keys(row.values)))];
    const header = ["path", ...columns, "note"];
    out.push(`### ${title}`, "");
    out.push(`| ${header.join(" | ")} |`);
    out.push(
      `| ${
        header.map((_, i) => (i === 0 || i === header.length - 1 ? "---" : "---:")).join(" | ")
      } |`,
    );
    for (const row of group) {
      const cells = columns.map((column) => formatValue(row.values[column]));
      out.push(`| ${[row.path, ...cells, escape(row.note ?? "")].join(" | ")} |`);
    }
    out.push("");
  }
  return out.join("\n");
}

/** Three significant figures or so: 2,874 / 53.2 / 0.52; a dash for a missing value. */
export function formatValue(value: number | null | undefined): string {
  if (value === null || value === undefined || Number.isNaN(value)) return "—";
  const abs = Math.abs(value);
  const digits = abs >= 100 ? 0 : abs >= 10 ? 1 : 2;
  return value.toLocaleString("en-US", {
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  });
}

function escape(text: string): string {
  return text.replaceAll("|", "\\|").replaceAll("\n", " ");
}
