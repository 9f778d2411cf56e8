//! The `<run dir | episode.mcap>` argument of `asid replay` and `asid view`: a run directory of
//! `asid run` (its `report.json` names the scene) or one MCAP episode (then `--scene` is needed).

use std::path::{Path, PathBuf};

use anyhow::bail;
use asid_station::Report;

/// What the argument names.
pub struct Recorded {
    /// The run's report (None: a single episode file).
    pub report: Option<Report>,
    /// The scene file: `--scene`, or the one the run's report names.
    pub scene_file: PathBuf,
}

impl Recorded {
    /// Resolves `input` (and `--scene`); errors name the path and what is missing.
    pub fn resolve(input: &Path, scene: Option<&Path>) -> anyhow::Result<Self> {
        if input.is_dir() {
            let report = Report::read(&input.join("report.json"))?;
            let scene_file = scene
                .map(Path::to_path_buf)
                .unwrap_or_else(|| PathBuf::from(&report.scene_file));
            Ok(Self {
                report: Some(report),
                scene_file,
            })
        } else if input.is_file() {
            let Some(scene) = scene else {
                bail!(
                    "{}: an episode file needs --scene (the scene it was recorded in)",
                    input.display()
                )
            };
            Ok(Self {
                report: None,
                scene_file: scene.to_path_buf(),
            })
        } else {
            bail!("{}: no such run directory or episode file", input.display())
        }
    }

    /// Loads the scene; a run of another scene than `--scene` is refused.
    pub fn simulator(&self, input: &Path) -> anyhow::Result<asid_sim::Simulator> {
        let sim = asid_sim::Simulator::load(&self.scene_file)?;
        if let Some(r) = &self.report
            && r.scene != sim.scene().spec.name
        {
            bail!(
                "{}: the run is of scene `{}`, {} is `{}`",
                input.display(),
                r.scene,
                self.scene_file.display(),
                sim.scene().spec.name
            );
        }
        Ok(sim)
    }
}
