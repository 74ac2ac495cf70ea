//! The fleet queries (`sql/*.sql`) over a directory of ledgers written by `audit --ledger`,
//! on DataFusion embedded in this process: every capture's transactions and findings as two
//! tables, each query's result printed as a table (or as JSON with `--format json`).
//!
//! ```text
//! cargo run --release --features fleet --example fleet -- LEDGER_DIR [--sql sql] [--format json]
//! ```
//!
//! While it reads the ledgers' footers (many files, from many captures), a progress bar on
//! standard error counts them.

use datafusion::arrow::array::{Array, RecordBatch};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::DataType;
use datafusion::arrow::util::pretty::pretty_format_batches;
use datafusion::prelude::{ParquetReadOptions, SessionContext};
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

struct Args {
    ledger: PathBuf,
    sql: PathBuf,
    json: bool,
}

fn args() -> Result<Args, String> {
    let mut it = std::env::args().skip(1);
    let mut ledger = None;
    let mut sql = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/sql"));
    let mut json = false;
    while let Some(a) = it.next() {
        match a.as_str() {
            "--sql" => sql = it.next().ok_or("--sql DIR")?.into(),
            "--format" => match it.next().as_deref() {
                Some("json") => json = true,
                Some("table") => json = false,
                other => return Err(format!("--format {other:?}: table or json")),
            },
            "-h" | "--help" => {
                return Err("usage: fleet LEDGER_DIR [--sql DIR] [--format table|json]".into());
            }
            _ if ledger.is_none() => ledger = Some(PathBuf::from(a)),
            other => return Err(format!("unexpected argument {other:?}")),
        }
    }
    Ok(Args {
        ledger: ledger.ok_or("usage: fleet LEDGER_DIR [--sql DIR] [--format table|json]")?,
        sql,
        json,
    })
}

/// The Parquet files of one table of the ledger directory, sorted.
fn parquet_files(dir: &Path) -> Result<Vec<PathBuf>, String> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "parquet"))
        .collect();
    files.sort();
    Ok(files)
}

/// Counts the rows of each file from its footer, drawing a progress bar on standard error.
fn survey(files: &[PathBuf]) -> Result<u64, String> {
    let tty = std::io::stderr().is_terminal();
    let mut rows = 0u64;
    for (i, f) in files.iter().enumerate() {
        let file = std::fs::File::open(f).map_err(|e| format!("{}: {e}", f.display()))?;
        let reader = datafusion::parquet::file::reader::SerializedFileReader::new(file)
            .map_err(|e| format!("{}: {e}", f.display()))?;
        use datafusion::parquet::file::reader::FileReader;
        rows += reader.metadata().file_metadata().num_rows().max(0) as u64;
        let done = i + 1;
        if tty || done == files.len() {
            let width = 30;
            let filled = done * width / files.len().max(1);
            eprint!(
                "\r[{}{}] {done}/{} ledger files, {rows} rows",
                "#".repeat(filled),
                " ".repeat(width - filled),
                files.len()
            );
            let _ = std::io::stderr().flush();
        }
    }
    eprintln!();
    Ok(rows)
}

/// A result as rows of strings (null as JSON null), for `--format json`.
fn rows_of(batches: &[RecordBatch]) -> Result<Vec<Vec<Option<String>>>, String> {
    let mut out = Vec::new();
    for b in batches {
        let columns: Vec<_> = b
            .columns()
            .iter()
            .map(|c| cast(c, &DataType::Utf8).map_err(|e| e.to_string()))
            .collect::<Result<_, _>>()?;
        for row in 0..b.num_rows() {
            out.push(
                columns
                    .iter()
                    .map(|c| {
                        let s = c
                            .as_any()
                            .downcast_ref::<datafusion::arrow::array::StringArray>()?;
                        (!s.is_null(row)).then(|| s.value(row).to_string())
                    })
                    .collect(),
            );
        }
    }
    Ok(out)
}

async fn run(args: Args) -> Result<(), String> {
    let ctx = SessionContext::new();
    let mut total = 0;
    for table in ["transactions", "findings"] {
        let dir = args.ledger.join(table);
        let files = parquet_files(&dir)?;
        if files.is_empty() {
            return Err(format!("{}: no ledger files", dir.display()));
        }
        eprintln!("{table}:");
        total += survey(&files)?;
        let path = format!("{}/", dir.display());
        ctx.register_parquet(table, &path, ParquetReadOptions::default())
            .await
            .map_err(|e| format!("{table}: {e}"))?;
    }
    eprintln!("{total} rows in all");
    let mut queries: Vec<PathBuf> = std::fs::read_dir(&args.sql)
        .map_err(|e| format!("--sql {}: {e}", args.sql.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "sql"))
        .collect();
    queries.sort();
    let mut json = serde_json::Map::new();
    for q in &queries {
        let name = q
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let text = std::fs::read_to_string(q).map_err(|e| format!("{}: {e}", q.display()))?;
        let started = std::time::Instant::now();
        let frame = ctx.sql(&text).await.map_err(|e| format!("{name}: {e}"))?;
        let batches = frame.collect().await.map_err(|e| format!("{name}: {e}"))?;
        let rows: usize = batches.iter().map(RecordBatch::num_rows).sum();
        eprintln!(
            "{name}: {rows} rows in {:.1} ms",
            started.elapsed().as_secs_f64() * 1000.0
        );
        if args.json {
            json.insert(
                name,
                serde_json::to_value(rows_of(&batches)?).unwrap_or_default(),
            );
        } else {
            let table = pretty_format_batches(&batches).map_err(|e| e.to_string())?;
            println!("{name}\n{table}\n");
        }
    }
    if args.json {
        println!("{}", serde_json::Value::Object(json));
    }
    Ok(())
}

fn main() -> ExitCode {
    let args = match args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("fleet: {e}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("fleet: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("fleet: {e}");
            ExitCode::FAILURE
        }
    }
}
