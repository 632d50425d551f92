//! The runs history: every run finished since the dashboard started, sortable, relaunchable, exportable.

use super::{App, Command, Overlay};
use crate::format::score as format_score;
use crate::runs_file::RunRecord;
use crossterm::event::KeyCode;
use std::cmp::Ordering;

/// The columns of the history, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Column {
    /// Run number, from 1.
    Number,
    /// Name and search with its parameters.
    Run,
    /// Workers at the end.
    Workers,
    /// Found, exhausted or stopped.
    Outcome,
    /// Wall time.
    Elapsed,
    /// Time not paused.
    Active,
    /// Completed tasks per active second.
    Rate,
    /// The rate over the first run's rate.
    Relative,
    /// Halt latency.
    Latency,
    /// Best score.
    Best,
}

/// Every column, left to right.
pub const COLUMNS: [Column; 10] = [
    Column::Number,
    Column::Run,
    Column::Workers,
    Column::Outcome,
    Column::Elapsed,
    Column::Active,
    Column::Rate,
    Column::Relative,
    Column::Latency,
    Column::Best,
];

impl Column {
    /// The header.
    #[must_use]
    pub fn title(self) -> &'static str {
        match self {
            Self::Number => "#",
            Self::Run => "run",
            Self::Workers => "w",
            Self::Outcome => "outcome",
            Self::Elapsed => "elapsed",
            Self::Active => "active",
            Self::Rate => "tasks/s",
            Self::Relative => "x first",
            Self::Latency => "halt lat",
            Self::Best => "best",
        }
    }
}

/// The finished runs and how the table shows them.
#[derive(Debug, Clone, Default)]
pub struct RunsHistory {
    /// Runs in the order they finished.
    pub records: Vec<RunRecord>,
    /// Index in [`COLUMNS`] of the sort column.
    pub sort: usize,
    /// Sort from largest to smallest.
    pub descending: bool,
    /// Highlighted row of the sorted table.
    pub cursor: usize,
}

impl RunsHistory {
    /// Record indices in table order.
    #[must_use]
    pub fn order(&self) -> Vec<usize> {
        let mut order: Vec<usize> = (0..self.records.len()).collect();
        let column = COLUMNS.get(self.sort).copied().unwrap_or(Column::Number);
        order.sort_by(|&a, &b| {
            let by = self.compare(column, a, b).then(a.cmp(&b));
            if self.descending { by.reverse() } else { by }
        });
        order
    }

    fn compare(&self, column: Column, a: usize, b: usize) -> Ordering {
        let (x, y) = (&self.records[a], &self.records[b]);
        let number = |f: fn(&RunRecord) -> Option<f64>| {
            // Missing values sort first.
            match (f(x), f(y)) {
                (Some(p), Some(q)) => p.total_cmp(&q),
                (p, q) => p.is_some().cmp(&q.is_some()),
            }
        };
        match column {
            Column::Number => a.cmp(&b),
            Column::Run => run_text(x).cmp(&run_text(y)),
            Column::Workers => x.workers.cmp(&y.workers),
            Column::Outcome => x.outcome.label().cmp(y.outcome.label()),
            Column::Elapsed => x.elapsed_s.total_cmp(&y.elapsed_s),
            Column::Active => x.active_s.total_cmp(&y.active_s),
            Column::Rate | Column::Relative => x.tasks_per_s.total_cmp(&y.tasks_per_s),
            Column::Latency => number(|r| r.halt_latency_ms),
            Column::Best => number(|r| r.best),
        }
    }

    /// The rate of run `index` over the first run's rate.
    #[must_use]
    pub fn relative(&self, index: usize) -> Option<f64> {
        let first = self.records.first()?.tasks_per_s;
        let ratio = self.records.get(index)?.tasks_per_s / first;
        ratio.is_finite().then_some(ratio)
    }

    /// The table as hyperfine's Markdown: a header, an alignment row, one row per run.
    #[must_use]
    pub fn to_markdown(&self) -> String {
        let mut text = String::from(
            "| # | Name | Search | Workers | Halt | Outcome | Elapsed [s] | Active [s] | Tasks/s | Relative | Halt latency [ms] | Best |\n\
             |---:|:---|:---|---:|:---|:---|---:|---:|---:|---:|---:|---:|\n",
        );
        for index in self.order() {
            let cells = self.export_cells(index);
            let search = format!("`{} {}`", cells[2], cells[3]);
            let row = [
                cells[0].clone(),
                cells[1].replace('|', "\\|"),
                search.replace('|', "\\|"),
            ]
            .into_iter()
            .chain(cells[4..].iter().cloned());
            text.push_str(&format!("| {} |\n", row.collect::<Vec<_>>().join(" | ")));
        }
        text
    }

    /// The table as CSV (hyperfine's style: a snake_case header, plain numbers).
    #[must_use]
    pub fn to_csv(&self) -> String {
        let mut text = String::from(
            "number,name,search,parameters,workers,halt,outcome,elapsed_s,active_s,tasks_per_s,relative,halt_latency_ms,best\n",
        );
        for index in self.order() {
            let cells: Vec<String> = self
                .export_cells(index)
                .iter()
                .map(|cell| csv_field(cell))
                .collect();
            text.push_str(&cells.join(","));
            text.push('\n');
        }
        text
    }

    /// number, name, kind, parameters, workers, halt, outcome, elapsed, active, rate, relative, latency, best.
    fn export_cells(&self, index: usize) -> Vec<String> {
        let record = &self.records[index];
        vec![
            (index + 1).to_string(),
            record.name.clone(),
            record.search.kind().to_string(),
            record.params.clone(),
            record.workers.to_string(),
            record.halt.clone(),
            record.outcome.label().to_string(),
            format!("{:.3}", record.elapsed_s),
            format!("{:.3}", record.active_s),
            format!("{:.1}", record.tasks_per_s),
            self.relative(index)
                .map_or_else(String::new, |r| format!("{r:.2}")),
            record
                .halt_latency_ms
                .map_or_else(String::new, |ms| format!("{ms:.3}")),
            record.best.map_or_else(String::new, format_score),
        ]
    }
}

/// Name and search, as the table's "run" column shows them.
#[must_use]
pub fn run_text(record: &RunRecord) -> String {
    format!("{}: {} {}", record.name, record.search.kind(), record.params)
}

fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}

/// The export formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    /// A Markdown table.
    Markdown,
    /// Comma-separated values.
    Csv,
}

impl ExportFormat {
    /// The file written, in the runs directory.
    #[must_use]
    pub fn file_name(self) -> &'static str {
        match self {
            Self::Markdown => "poolwatch-runs.md",
            Self::Csv => "poolwatch-runs.csv",
        }
    }
}

impl App {
    /// Opens the runs history.
    pub(super) fn open_runs(&mut self) -> Vec<Command> {
        self.overlay = Overlay::Runs;
        self.history.cursor = self
            .history
            .cursor
            .min(self.history.records.len().saturating_sub(1));
        Vec::new()
    }

    /// A run finished: it joins the history.
    pub(super) fn on_run_recorded(&mut self, record: RunRecord) {
        self.history.records.push(record);
    }

    pub(super) fn on_runs_key(&mut self, code: KeyCode) -> Vec<Command> {
        let runs = &mut self.history;
        let last = runs.records.len().saturating_sub(1);
        match code {
            KeyCode::Up | KeyCode::Char('k') => runs.cursor = runs.cursor.saturating_sub(1),
            KeyCode::Down | KeyCode::Char('j') => runs.cursor = (runs.cursor + 1).min(last),
            KeyCode::Left | KeyCode::Char('h') => {
                runs.sort = runs.sort.checked_sub(1).unwrap_or(COLUMNS.len() - 1)
            }
            KeyCode::Right | KeyCode::Char('l') => runs.sort = (runs.sort + 1) % COLUMNS.len(),
            KeyCode::Char('s') => runs.descending = !runs.descending,
            KeyCode::Char('x') => return self.export(ExportFormat::Markdown),
            KeyCode::Char('X') => return self.export(ExportFormat::Csv),
            KeyCode::Enter => return self.relaunch(),
            KeyCode::Esc | KeyCode::Char('r') => self.overlay = Overlay::None,
            KeyCode::Char('q') => return self.ask_quit(),
            _ => {}
        }
        Vec::new()
    }

    fn export(&mut self, format: ExportFormat) -> Vec<Command> {
        if self.history.records.is_empty() {
            self.info("no finished runs to export".to_string());
            return Vec::new();
        }
        let contents = match format {
            ExportFormat::Markdown => self.history.to_markdown(),
            ExportFormat::Csv => self.history.to_csv(),
        };
        vec![Command::Export {
            file_name: format.file_name().to_string(),
            contents,
            runs: self.history.records.len(),
        }]
    }

    fn relaunch(&mut self) -> Vec<Command> {
        let Some(&index) = self.history.order().get(self.history.cursor) else {
            return Vec::new();
        };
        let preset = self.history.records[index].preset();
        self.overlay = Overlay::None;
        vec![Command::Launch(Box::new(preset))]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runs_file::RunOutcome;
    use crate::spec::SearchSpec;

    fn record(name: &str, rate: f64, latency: Option<f64>) -> RunRecord {
        RunRecord {
            name: name.into(),
            search: SearchSpec::default(),
            params: "tasks=10, needle=5".into(),
            workers: 2,
            halt: "now".into(),
            outcome: RunOutcome::Found,
            matches: 1,
            completed: 6,
            total: 10,
            elapsed_s: 1.0,
            active_s: 1.0,
            tasks_per_s: rate,
            halt_latency_ms: latency,
            best: None,
        }
    }

    #[test]
    fn sorts_by_any_column_and_rates_against_the_first() {
        let mut runs = RunsHistory {
            records: vec![
                record("b", 100.0, Some(2.0)),
                record("a", 300.0, None),
                record("c", 200.0, Some(1.0)),
            ],
            ..RunsHistory::default()
        };
        assert_eq!(runs.order(), [0, 1, 2]);
        runs.sort = 6;
        assert_eq!(runs.order(), [0, 2, 1]);
        runs.descending = true;
        assert_eq!(runs.order(), [1, 2, 0]);
        runs.sort = 8;
        runs.descending = false;
        assert_eq!(runs.order(), [1, 2, 0], "missing latency first");
        assert_eq!(runs.relative(1), Some(3.0));
    }

    #[test]
    fn exports_as_markdown_and_csv() {
        let runs = RunsHistory {
            records: vec![record("b", 100.0, Some(2.0)), record("a|x", 300.0, None)],
            ..RunsHistory::default()
        };
        let markdown = runs.to_markdown();
        let lines: Vec<&str> = markdown.lines().collect();
        assert_eq!(lines.len(), 4);
        assert!(lines[1].starts_with("|---:|:---|"));
        assert!(
            lines[3].starts_with("| 2 | a\\|x | `needle tasks=10, needle=5` | 2 | now | found |"),
            "{}",
            lines[3]
        );
        assert!(lines[3].contains("| 300.0 | 3.00 |  |"), "{}", lines[3]);
        let csv = runs.to_csv();
        assert!(
            csv.lines()
                .nth(1)
                .unwrap()
                .starts_with("1,b,needle,\"tasks=10, needle=5\",2,now,found,1.000,1.000,100.0,1.00,2.000,"),
            "{csv}"
        );
    }
}
