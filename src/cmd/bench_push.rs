//! `asid bench push`: planar sliding under straight pushes, the simulator (each support model)
//! against the quasi-static reference and, with `--versus mujoco`, MuJoCo on the same pusher path.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, bail};
use asid_core::scene::SupportKind;
use asid_sim::Simulator;
use asid_sim::push_case::{PushCase, PushOutcome, run_reference, run_sim, setup};
use serde::Serialize;

/// Arguments of `asid bench push`.
#[derive(clap::Args)]
pub struct Args {
    /// Also replay every push in MuJoCo (needs the peer venv: `.venv-peer` or `ASID_PEER_PYTHON`).
    #[arg(long, value_parser = ["mujoco"])]
    versus: Option<String>,
    /// Fewer cases (one speed, one friction): a quick look.
    #[arg(long)]
    quick: bool,
    /// Print one JSON object per case.
    #[arg(long)]
    json: bool,
    /// Reference sub-steps per control period.
    #[arg(long, default_value_t = 200)]
    substeps: usize,
}

#[derive(Serialize, Clone)]
struct Row {
    object: String,
    offset_m: f64,
    speed_m_s: f64,
    friction: f64,
    com_offset_m: f64,
    reference_corners: Figures,
    asid_corners: Figures,
    reference_footprint: Figures,
    asid_footprint: Figures,
    asid_engine: Figures,
    mujoco: Option<Figures>,
}

#[derive(Serialize, Clone, Copy)]
struct Figures {
    yaw_deg: f64,
    slide_m: f64,
}

impl From<PushOutcome> for Figures {
    fn from(o: PushOutcome) -> Self {
        Self {
            yaw_deg: o.yaw_deg,
            slide_m: o.dx_m.hypot(o.dy_m),
        }
    }
}

struct Object {
    scene: &'static str,
    name: &'static str,
    offsets_m: &'static [f64],
    coms_m: &'static [f64],
}

const OBJECTS: [Object; 2] = [
    Object {
        scene: "scenes/rod.toml",
        name: "rod",
        offsets_m: &[0.0, 0.01, 0.03, 0.05, 0.1],
        coms_m: &[0.0, 0.03],
    },
    Object {
        scene: "scenes/shuffleboard.toml",
        name: "puck",
        offsets_m: &[0.0, 0.01, 0.02, 0.03],
        coms_m: &[0.0],
    },
];

/// Runs the benchmark.
pub fn run(args: &Args) -> anyhow::Result<()> {
    let (speeds, frictions): (&[f64], &[f64]) = if args.quick {
        (&[0.1], &[0.25])
    } else {
        (&[0.1, 0.3], &[0.15, 0.25, 0.4])
    };
    let python = match args.versus.as_deref() {
        Some(_) => Some(peer_python()?),
        None => None,
    };
    let mut rows = Vec::new();
    let mut mujoco_requests = Vec::new();
    for obj in &OBJECTS {
        let sim = Simulator::load(Path::new(obj.scene))
            .with_context(|| format!("loading {}", obj.scene))?;
        for &com in obj.coms_m {
            for &mu in frictions {
                for &speed in speeds {
                    for &offset in obj.offsets_m {
                        let mut params = vec![(format!("{}.friction", obj.name), mu)];
                        if obj.name == "rod" {
                            params.push(("rod.com_offset".into(), com));
                        }
                        let case = |support| PushCase {
                            offset_m: offset,
                            speed_m_s: speed,
                            travel_m: 0.1,
                            params: params.clone(),
                            support: Some(support),
                        };
                        let outcome = |support| -> anyhow::Result<(Figures, Vec<[f64; 2]>)> {
                            let c = case(support);
                            let (o, path) = run_sim(&sim, obj.name, &c)?;
                            Ok((o.into(), path))
                        };
                        let (asid_corners, path) = outcome(SupportKind::Corners)?;
                        let (asid_footprint, _) = outcome(SupportKind::Footprint)?;
                        let (asid_engine, _) = outcome(SupportKind::Engine)?;
                        let reference =
                            |support| -> anyhow::Result<Figures> {
                                Ok(run_reference(
                                    &sim,
                                    obj.name,
                                    &case(support),
                                    &path,
                                    args.substeps,
                                )?
                                .into())
                            };
                        if python.is_some() {
                            let s = setup(&sim, obj.name, &case(SupportKind::Corners))?;
                            mujoco_requests.push(s.mujoco_request(&path, 1.0));
                        }
                        rows.push(Row {
                            object: obj.name.into(),
                            offset_m: offset,
                            speed_m_s: speed,
                            friction: mu,
                            com_offset_m: com,
                            reference_corners: reference(SupportKind::Corners)?,
                            asid_corners,
                            reference_footprint: reference(SupportKind::Footprint)?,
                            asid_footprint,
                            asid_engine,
                            mujoco: None,
                        });
                    }
                }
            }
        }
    }
    if let Some(py) = python {
        let results = run_mujoco(&py, &mujoco_requests)?;
        if results.len() != rows.len() {
            bail!(
                "bench/mujoco_push.py returned {} results for {} pushes",
                results.len(),
                rows.len()
            );
        }
        for (row, r) in rows.iter_mut().zip(results) {
            row.mujoco = Some(r);
        }
    }
    if args.json {
        for r in &rows {
            println!("{}", serde_json::to_string(r)?);
        }
    } else {
        print_table(&rows);
    }
    Ok(())
}

/// The peer venv's Python (MuJoCo is installed there with franky-sim).
fn peer_python() -> anyhow::Result<PathBuf> {
    let candidate = std::env::var_os("ASID_PEER_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(".venv-peer/bin/python"));
    if !candidate.exists() {
        bail!(
            "--versus mujoco needs the peer venv's Python at {} (make it with `.ci/run` or \
             `python3 -m venv .venv-peer && .venv-peer/bin/pip install franky-sim==1.0.4`, or set \
             ASID_PEER_PYTHON)",
            candidate.display()
        );
    }
    Ok(candidate)
}

fn run_mujoco(python: &Path, cases: &[serde_json::Value]) -> anyhow::Result<Vec<Figures>> {
    let script = Path::new("bench/mujoco_push.py");
    let mut child = Command::new(python)
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .with_context(|| format!("starting {} {}", python.display(), script.display()))?;
    let request = serde_json::json!({ "cases": cases });
    child
        .stdin
        .take()
        .context("MuJoCo script stdin")?
        .write_all(request.to_string().as_bytes())?;
    let out = child.wait_with_output()?;
    if !out.status.success() {
        bail!("{} exited with {}", script.display(), out.status);
    }
    let v: serde_json::Value = serde_json::from_slice(&out.stdout)
        .with_context(|| format!("reading the output of {}", script.display()))?;
    let results = v["results"]
        .as_array()
        .context("MuJoCo output has no `results` array")?;
    results
        .iter()
        .map(|r| {
            Ok(Figures {
                yaw_deg: r["yaw_deg"].as_f64().context("yaw_deg")?,
                slide_m: r["dx_m"]
                    .as_f64()
                    .context("dx_m")?
                    .hypot(r["dy_m"].as_f64().context("dy_m")?),
            })
        })
        .collect()
}

fn print_table(rows: &[Row]) {
    println!(
        "final yaw in degrees (slide distance in mm); support models: corners (box corners, puck rim), footprint (uniform over the bottom)"
    );
    println!(
        "| object | offset cm | speed m/s | mu | com cm | reference corners | asid corners | reference footprint | asid footprint | asid engine (rapier) | MuJoCo |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    let f = |x: &Figures| format!("{:.1} ({:.0})", x.yaw_deg, 1e3 * x.slide_m);
    for r in rows {
        println!(
            "| {} | {:.0} | {:.1} | {:.2} | {:.0} | {} | {} | {} | {} | {} | {} |",
            r.object,
            100.0 * r.offset_m,
            r.speed_m_s,
            r.friction,
            100.0 * r.com_offset_m,
            f(&r.reference_corners),
            f(&r.asid_corners),
            f(&r.reference_footprint),
            f(&r.asid_footprint),
            f(&r.asid_engine),
            r.mujoco.as_ref().map_or("-".into(), f),
        );
    }
    for object in ["rod", "puck"] {
        let sel: Vec<&Row> = rows.iter().filter(|r| r.object == object).collect();
        if sel.is_empty() {
            continue;
        }
        let max = |g: &dyn Fn(&Row) -> Option<f64>| {
            sel.iter()
                .filter_map(|r| g(r))
                .fold(0.0_f64, |m, x| m.max(x.abs()))
        };
        println!(
            "{object}: max |yaw - reference| over {} pushes: asid corners {:.1} deg, asid footprint {:.1} deg, asid engine vs corners reference {:.1} deg, MuJoCo vs corners reference {}",
            sel.len(),
            max(&|r| Some(r.asid_corners.yaw_deg - r.reference_corners.yaw_deg)),
            max(&|r| Some(r.asid_footprint.yaw_deg - r.reference_footprint.yaw_deg)),
            max(&|r| Some(r.asid_engine.yaw_deg - r.reference_corners.yaw_deg)),
            if sel.iter().any(|r| r.mujoco.is_some()) {
                format!(
                    "{:.1} deg, asid corners vs MuJoCo {:.1} deg",
                    max(&|r| r.mujoco.map(|m| m.yaw_deg - r.reference_corners.yaw_deg)),
                    max(&|r| r.mujoco.map(|m| m.yaw_deg - r.asid_corners.yaw_deg))
                )
            } else {
                "-".into()
            },
        );
    }
}
