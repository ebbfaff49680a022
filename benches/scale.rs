//! How schemac's cost grows with the size of a project (issue 6; results in BENCHMARKS.md).
//!
//! For each size, a synthetic project (`support/synth.rs`: N tables over 50 layers) is written
//! to a temporary folder and the release `schemac` binary is run on it as a child process, so
//! the figures are whole-process ones: wall time and peak resident memory (from `wait4`).
//!
//! - `generate` on a project without `generated/` (everything compiled and written), then
//!   `check` on the result (everything compiled, compared, linted; nothing written);
//! - with a database (the tests' throwaway PostgreSQL 15 cluster, or `DATABASE_URL`): the
//!   migrations applied by the real `dbmate up`; `schemac diff --format json` against that
//!   database (must find no drift; its own introspection time is read from the JSON), beside
//!   `pg_dump --schema-only` of the same database in the same run;
//! - `schemac verify` (up / compare / down / compare / up again, on its own scratch cluster).
//!
//! ```text
//! cargo bench --bench scale                         # 100, 1,000 and 5,000 tables
//! cargo bench --bench scale -- --sizes 1000 --runs 5 --no-verify
//! cargo bench --bench scale -- --write /tmp/p5000 --sizes 5000   # only write the project
//! ```
//!
//! Options: `--sizes a,b,c`, `--layers N` (50), `--runs N` (3; the median is reported),
//! `--no-db` (no database figures), `--no-verify`, `--write DIR` (write the project of the
//! first size into DIR and stop), `--schemac PATH` (measure another build of schemac, e.g. a
//! copy of an earlier one for before / after figures).

#[path = "../tests/support/mod.rs"]
mod support;
#[path = "support/synth.rs"]
mod synth;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use synth::Synth;

struct Options {
    sizes: Vec<usize>,
    layers: usize,
    runs: usize,
    db: bool,
    verify: bool,
    write: Option<PathBuf>,
    /// The schemac binary to measure (default: the one this build made).
    schemac: PathBuf,
}

fn options() -> Options {
    let mut o = Options {
        sizes: vec![100, 1000, 5000],
        layers: 50,
        runs: 3,
        db: true,
        verify: true,
        write: None,
        schemac: PathBuf::from(env!("CARGO_BIN_EXE_schemac")),
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = |name: &str| {
            args.next()
                .unwrap_or_else(|| panic!("{name} needs a value"))
        };
        match a.as_str() {
            "--sizes" => {
                o.sizes = value("--sizes")
                    .split(',')
                    .map(|s| s.trim().parse().expect("--sizes: numbers"))
                    .collect()
            }
            "--layers" => o.layers = value("--layers").parse().expect("--layers: a number"),
            "--runs" => o.runs = value("--runs").parse().expect("--runs: a number"),
            "--no-db" => o.db = false,
            "--no-verify" => o.verify = false,
            "--write" => o.write = Some(PathBuf::from(value("--write"))),
            "--schemac" => o.schemac = PathBuf::from(value("--schemac")),
            // cargo bench passes --bench to every bench binary.
            "--bench" => {}
            other => panic!("unknown option {other} (see benches/scale.rs)"),
        }
    }
    o.runs = o.runs.max(1);
    o
}

/// One finished child process.
struct Run {
    wall: Duration,
    /// Peak resident set size, in bytes.
    peak_rss: u64,
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

/// Run a command to completion, measuring its wall time and peak memory with `wait4` (which
/// reaps the child itself: `Child::wait` would not return its resource usage).
#[allow(clippy::zombie_processes)]
fn run(cmd: &mut Command) -> Run {
    let out_file = tempfile::tempfile().expect("temp file");
    let err_file = tempfile::tempfile().expect("temp file");
    cmd.stdin(Stdio::null())
        .stdout(out_file.try_clone().unwrap())
        .stderr(err_file.try_clone().unwrap());
    let started = Instant::now();
    let child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {:?}: {e}", cmd.get_program()));
    let mut status = 0;
    // SAFETY: an all-zero rusage is a valid value; wait4 fills it for our own child.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let pid = child.id() as libc::pid_t;
    let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    let wall = started.elapsed();
    assert_eq!(r, pid, "wait4: {}", std::io::Error::last_os_error());
    let code = libc::WIFEXITED(status).then(|| libc::WEXITSTATUS(status));
    let read = |mut f: std::fs::File| {
        use std::io::{Read, Seek};
        let mut s = String::new();
        f.seek(std::io::SeekFrom::Start(0)).unwrap();
        f.read_to_string(&mut s).unwrap();
        s
    };
    Run {
        wall,
        peak_rss: usage.ru_maxrss as u64 * 1024,
        code,
        stdout: read(out_file),
        stderr: read(err_file),
    }
}

fn expect(r: Run, code: i32, what: &str) -> Run {
    match check(r, code, what) {
        Ok(r) => r,
        Err(e) => panic!("{e}"),
    }
}

fn check(r: Run, code: i32, what: &str) -> Result<Run, String> {
    if r.code != Some(code) {
        return Err(format!(
            "{what}: exit {:?} (expected {code})\n--- stdout\n{}\n--- stderr\n{}",
            r.code,
            tail(&r.stdout),
            tail(&r.stderr)
        ));
    }
    Ok(r)
}

/// The last line of an error, for the table.
fn last_line(e: &str) -> String {
    e.lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
        .trim()
        .to_string()
}

fn tail(s: &str) -> &str {
    let start = s.len().saturating_sub(4000);
    let start = (start..=s.len())
        .find(|&i| s.is_char_boundary(i))
        .unwrap_or(s.len());
    &s[start..]
}

fn schemac(o: &Options, project: &Path) -> Command {
    let mut cmd = Command::new(&o.schemac);
    cmd.arg("--project")
        .arg(project)
        .env_remove("DATABASE_URL")
        .env_remove("SCHEMAC_DEV_URL")
        .env("NO_COLOR", "1");
    cmd
}

/// The median of `runs` measurements (and the largest peak memory among them).
struct Figure {
    wall: Duration,
    peak_rss: u64,
}

fn figure(runs: &[Run]) -> Figure {
    let mut walls: Vec<Duration> = runs.iter().map(|r| r.wall).collect();
    walls.sort();
    Figure {
        wall: walls[walls.len() / 2],
        peak_rss: runs.iter().map(|r| r.peak_rss).max().unwrap_or(0),
    }
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// Everything measured for one size.
#[derive(Default)]
struct Row {
    tables: usize,
    spec_bytes: usize,
    generated_bytes: u64,
    generate: Option<(Duration, u64)>,
    check: Option<(Duration, u64)>,
    apply: Option<Duration>,
    introspection: Option<Duration>,
    diff: Option<(Duration, u64)>,
    diff_scratch: Option<Duration>,
    pg_dump: Option<Duration>,
    verify: Option<(Duration, u64)>,
    /// Steps that failed (the figure is then missing), with the end of what they printed.
    failed: Vec<(&'static str, String)>,
}

fn main() {
    let o = options();
    if let Some(dir) = &o.write {
        let size = o.sizes[0];
        Synth::new(size, o.layers)
            .write(dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        println!("wrote the {size}-table project to {}", dir.display());
        return;
    }
    println!(
        "schemac scale benchmark: sizes {:?}, {} layers, median of {} runs, {}",
        o.sizes,
        o.layers,
        o.runs,
        o.schemac.display()
    );
    let mut rows = Vec::new();
    for &size in &o.sizes {
        rows.push(measure(size, &o));
        print_table(&rows);
    }
    print_growth(&rows);
}

fn measure(size: usize, o: &Options) -> Row {
    let synth = Synth::new(size, o.layers);
    let dir = tempfile::Builder::new()
        .prefix(&format!("schemac-bench-{size}."))
        .tempdir()
        .expect("temp dir");
    let project = dir.path();
    synth.write(project).expect("writing the project");
    let mut row = Row {
        tables: size,
        spec_bytes: synth.files().iter().map(|(_, t)| t.len()).sum(),
        ..Row::default()
    };

    let generated = project.join("generated");
    let mut runs = Vec::new();
    for _ in 0..o.runs {
        let _ = std::fs::remove_dir_all(&generated);
        runs.push(expect(
            run(schemac(o, project).arg("generate")),
            0,
            "schemac generate",
        ));
    }
    let f = figure(&runs);
    row.generate = Some((f.wall, f.peak_rss));
    row.generated_bytes = dir_size(&generated);
    eprintln!("{size}: generate {:?}", f.wall);

    let runs: Vec<Run> = (0..o.runs)
        .map(|_| expect(run(schemac(o, project).arg("check")), 0, "schemac check"))
        .collect();
    let f = figure(&runs);
    row.check = Some((f.wall, f.peak_rss));
    eprintln!("{size}: check {:?}", f.wall);

    if o.db {
        measure_database(&synth, project, o, &mut row);
    }
    if o.verify {
        match check(run(schemac(o, project).arg("verify")), 0, "schemac verify") {
            Ok(r) => {
                row.verify = Some((r.wall, r.peak_rss));
                eprintln!("{size}: verify {:?}", r.wall);
            }
            Err(e) => {
                eprintln!("{size}: {e}");
                row.failed.push(("verify", last_line(&e)));
            }
        }
    }
    row
}

fn measure_database(synth: &Synth, project: &Path, o: &Options, row: &mut Row) {
    let pg = support::server();
    let drop_roles = || {
        let sql = format!(
            "DO $$DECLARE r text; BEGIN FOR r IN SELECT rolname FROM pg_roles WHERE rolname LIKE {} LOOP EXECUTE format('DROP ROLE %I', r); END LOOP; END$$",
            support::quote_literal(&format!("{}%", synth.role_prefix))
        );
        pg.psql(pg.admin_url(), &sql)
            .unwrap_or_else(|e| panic!("dropping the roles: {e}"));
    };
    drop_roles();
    let url = pg.create_database(&format!("bench_{}", row.tables));

    let started = Instant::now();
    let out = pg.dbmate(&url, &project.join("generated/migrations"), &["up"]);
    if !out.status.success() {
        let e = String::from_utf8_lossy(&out.stderr).to_string();
        eprintln!("{}: dbmate up failed: {}", row.tables, tail(&e));
        row.failed.push(("dbmate up", last_line(&e)));
        pg.drop_database(&url);
        drop_roles();
        return;
    }
    row.apply = Some(started.elapsed());
    eprintln!("{}: dbmate up {:?}", row.tables, started.elapsed());

    let mut diffs = Vec::new();
    let mut introspection = Vec::new();
    let mut scratch = Vec::new();
    let mut dumps = Vec::new();
    for _ in 0..o.runs {
        let r = match check(
            run(schemac(o, project).args(["diff", "--format", "json", "--database-url", &url])),
            0,
            "schemac diff (no drift expected)",
        ) {
            Ok(r) => r,
            Err(e) => {
                eprintln!("{}: {e}", row.tables);
                row.failed.push(("diff", last_line(&e)));
                break;
            }
        };
        let v: serde_json::Value = serde_json::from_str(&r.stdout)
            .unwrap_or_else(|e| panic!("diff --format json: {e}\n{}", tail(&r.stdout)));
        let ms = |k: &str| {
            Duration::from_millis(
                v["timings_ms"][k]
                    .as_u64()
                    .unwrap_or_else(|| panic!("no timings_ms.{k} in {v}")),
            )
        };
        introspection.push(ms("introspection"));
        scratch.push(ms("scratch"));
        diffs.push(r);
    }
    // pg_dump of the same database, in the same run.
    for _ in 0..o.runs {
        dumps.push(expect(
            run(Command::new(pg.tool("pg_dump"))
                .args(["--schema-only", "-d"])
                .arg(support::conninfo(&url))),
            0,
            "pg_dump --schema-only",
        ));
    }
    row.pg_dump = Some(figure(&dumps).wall);
    if !diffs.is_empty() {
        let f = figure(&diffs);
        row.diff = Some((f.wall, f.peak_rss));
        row.introspection = Some(median(introspection));
        row.diff_scratch = Some(median(scratch));
        eprintln!(
            "{}: introspection {:?}, pg_dump {:?}",
            row.tables,
            row.introspection.unwrap(),
            row.pg_dump.unwrap()
        );
    }
    pg.drop_database(&url);
    drop_roles();
}

fn dir_size(dir: &Path) -> u64 {
    let mut total = 0;
    for entry in walk(dir) {
        total += std::fs::metadata(entry).map(|m| m.len()).unwrap_or(0);
    }
    total
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(walk(&p));
            } else {
                out.push(p);
            }
        }
    }
    out
}

fn ms(d: Duration) -> String {
    let ms = d.as_secs_f64() * 1000.0;
    if ms >= 10_000.0 {
        format!("{:.1} s", ms / 1000.0)
    } else if ms >= 100.0 {
        format!("{ms:.0} ms")
    } else {
        format!("{ms:.1} ms")
    }
}

fn mb(bytes: u64) -> String {
    format!("{:.0} MB", bytes as f64 / 1_048_576.0)
}

fn cell<T>(v: &Option<T>, f: impl Fn(&T) -> String) -> String {
    v.as_ref().map_or_else(|| "-".to_string(), f)
}

fn print_table(rows: &[Row]) {
    println!();
    println!("| tables | specs | generated | generate | check | dbmate up | introspection | pg_dump --schema-only | introspection / pg_dump | diff (scratch part) | verify |");
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for r in rows {
        let ratio = match (r.introspection, r.pg_dump) {
            (Some(i), Some(p)) => format!("{:.2}", i.as_secs_f64() / p.as_secs_f64()),
            _ => "-".into(),
        };
        println!(
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            r.tables,
            mb_or_kb(r.spec_bytes as u64),
            mb_or_kb(r.generated_bytes),
            cell(&r.generate, |(d, m)| format!("{}, {}", ms(*d), mb(*m))),
            cell(&r.check, |(d, m)| format!("{}, {}", ms(*d), mb(*m))),
            cell(&r.apply, |d| ms(*d)),
            cell(&r.introspection, |d| ms(*d)),
            cell(&r.pg_dump, |d| ms(*d)),
            ratio,
            match (&r.diff, &r.diff_scratch) {
                (Some((d, m)), Some(s)) => format!("{}, {} ({})", ms(*d), mb(*m), ms(*s)),
                _ => "-".into(),
            },
            cell(&r.verify, |(d, m)| format!("{}, {}", ms(*d), mb(*m))),
        );
    }
    for r in rows {
        for (step, e) in &r.failed {
            println!("- {} tables: {step} failed: {e}", r.tables);
        }
    }
}

fn mb_or_kb(bytes: u64) -> String {
    if bytes >= 1_048_576 {
        format!("{:.1} MB", bytes as f64 / 1_048_576.0)
    } else {
        format!("{:.0} KB", bytes as f64 / 1024.0)
    }
}

/// How each figure grows between the two largest sizes, against how the size grows.
fn print_growth(rows: &[Row]) {
    let [.., a, b] = rows else { return };
    println!();
    println!(
        "growth from {} to {} tables (x{:.1}):",
        a.tables,
        b.tables,
        b.tables as f64 / a.tables as f64
    );
    let grow = |name: &str, x: Option<Duration>, y: Option<Duration>| {
        if let (Some(x), Some(y)) = (x, y) {
            println!(
                "- {name}: x{:.2}",
                y.as_secs_f64() / x.as_secs_f64().max(1e-9)
            );
        }
    };
    grow("generate", a.generate.map(|f| f.0), b.generate.map(|f| f.0));
    grow("check", a.check.map(|f| f.0), b.check.map(|f| f.0));
    grow("dbmate up", a.apply, b.apply);
    grow("introspection", a.introspection, b.introspection);
    grow("pg_dump --schema-only", a.pg_dump, b.pg_dump);
    grow("diff", a.diff.map(|f| f.0), b.diff.map(|f| f.0));
    grow("verify", a.verify.map(|f| f.0), b.verify.map(|f| f.0));
    if let (Some(x), Some(y)) = (a.generate, b.generate) {
        println!(
            "- generate peak memory: x{:.2}",
            y.1 as f64 / x.1.max(1) as f64
        );
    }
}
