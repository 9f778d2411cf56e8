//! The `<run dir | episode.mcap>` argument of `asid replay` and `asid view`, resolved the same way
//! for both: a run directory of `asid run` (its `report.json` names the scene file) or one MCAP
//! episode (its `asid.run` metadata names the scene; `--scene` gives the file, else
//! `scenes/<scene>.toml`), or a JSON episode of `asid simulate` with `--scene`. Either way the scene
//! is loaded and, where the recording names it, must be the one recorded.

use std::path::{Path, PathBuf};

use anyhow::bail;
use asid_arm::Recording;
use asid_station::Report;

/// What the argument names, with its scene loaded and checked.
pub struct Recorded {
    /// The run's report (None: a single episode file).
    pub report: Option<Report>,
    /// The episode file, read (None: a run directory).
    pub episode: Option<Recording>,
    /// The scene file: `--scene`, the one the run's report names, or the episode's
    /// `scenes/<scene>.toml`.
    pub scene_file: PathBuf,
    /// The scene's simulator.
    pub sim: asid_sim::Simulator,
}

impl Recorded {
    /// Resolves `input` (and `--scene`) and loads the scene; errors name the path, and for an
    /// episode the metadata field, and what is missing or does not match.
    pub fn resolve(input: &Path, scene: Option<&Path>) -> anyhow::Result<Self> {
        if input.is_dir() {
            let report = Report::read(&input.join("report.json"))?;
            let scene_file = scene
                .map(Path::to_path_buf)
                .unwrap_or_else(|| PathBuf::from(&report.scene_file));
            let sim = asid_sim::Simulator::load(&scene_file)?;
            if report.scene != sim.scene().spec.name {
                bail!(
                    "{}: the run is of scene `{}`, {} is `{}`",
                    input.display(),
                    report.scene,
                    scene_file.display(),
                    sim.scene().spec.name
                );
            }
            Ok(Self {
                report: Some(report),
                episode: None,
                scene_file,
                sim,
            })
        } else if input.is_file() && input.extension().is_some_and(|e| e == "json") {
            // A JSON episode (`asid simulate`) names no scene: --scene gives it; replay reads the
            // file itself.
            let Some(scene_file) = scene else {
                bail!(
                    "{}: a JSON episode does not name its scene; give it with --scene",
                    input.display()
                );
            };
            Ok(Self {
                report: None,
                episode: None,
                scene_file: scene_file.to_path_buf(),
                sim: asid_sim::Simulator::load(scene_file)?,
            })
        } else if input.is_file() {
            let recording = match (asid_record::read_recording(input), scene) {
                (Ok(r), _) => r,
                (Err(e), Some(_)) => return Err(e.into()),
                (Err(e), None) => {
                    return Err(anyhow::Error::new(e).context(format!(
                        "{}: no --scene, and the scene it was recorded in cannot be read from it",
                        input.display()
                    )));
                }
            };
            let named = recording.info.as_ref().map(|i| i.scene.as_str());
            let scene_file = match (scene, named) {
                (Some(s), _) => s.to_path_buf(),
                (None, Some(name)) => named_scene_file(input, name)?,
                (None, None) => bail!(
                    "{}: an episode file needs --scene (the scene it was recorded in)",
                    input.display()
                ),
            };
            let sim = asid_sim::Simulator::load(&scene_file)?;
            if let Some(name) = named
                && name != sim.scene().spec.name
            {
                bail!(
                    "{}: recorded in scene `{name}` (metadata `{}`, field `scene`), {} is `{}`",
                    input.display(),
                    asid_record::schema::RUN_METADATA,
                    scene_file.display(),
                    sim.scene().spec.name
                );
            }
            Ok(Self {
                report: None,
                episode: Some(recording),
                scene_file,
                sim,
            })
        } else {
            bail!("{}: no such run directory or episode file", input.display())
        }
    }
}

/// `scenes/<name>.toml` (from the working directory) of the scene an episode names, if it is
/// there; the error names the episode, the metadata field and the file looked for.
fn named_scene_file(input: &Path, name: &str) -> anyhow::Result<PathBuf> {
    let field = format!(
        "metadata `{}`, field `scene`",
        asid_record::schema::RUN_METADATA
    );
    let plain = !name.is_empty()
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
    if !plain {
        bail!(
            "{}: {field}: scene name {name:?} is not a plain file name; pass --scene (the scene it \
             was recorded in)",
            input.display()
        );
    }
    let file = Path::new("scenes").join(format!("{name}.toml"));
    if !file.is_file() {
        bail!(
            "{}: {field}: scene `{name}` not found ({} does not exist); pass --scene (the scene it \
             was recorded in)",
            input.display(),
            file.display()
        );
    }
    Ok(file)
}
