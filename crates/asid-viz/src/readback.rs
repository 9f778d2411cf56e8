//! Reading an `.rrd` file back with rerun's own decoder: which entities it holds, with how many
//! rows, which components and on which timelines (what the tests and `asid view` users check).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use rerun::external::re_log_encoding::DecoderApp;
use rerun::external::re_log_types::LogMsg;

use crate::VizError;

/// One entity of a recording.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EntityContents {
    /// Rows logged (static and temporal).
    pub rows: usize,
    /// Component names (`Transform3D:translation`, `Scalars:scalars`, ...).
    pub components: BTreeSet<String>,
    /// Timelines its rows are on (none for static rows).
    pub timelines: BTreeSet<String>,
}

/// The entities of an `.rrd` file, by path as logged (`world/robot/panda_link1`: rerun's leading
/// `/` dropped).
pub fn rrd_contents(path: &Path) -> Result<BTreeMap<String, EntityContents>, VizError> {
    let bad = |reason: String| VizError::Rrd {
        file: path.to_path_buf(),
        reason,
    };
    let file = std::fs::File::open(path).map_err(|e| bad(e.to_string()))?;
    let messages =
        DecoderApp::decode_eager(std::io::BufReader::new(file)).map_err(|e| bad(e.to_string()))?;
    let mut out: BTreeMap<String, EntityContents> = BTreeMap::new();
    for msg in messages {
        let LogMsg::ArrowMsg(_, arrow) = msg.map_err(|e| bad(e.to_string()))? else {
            continue;
        };
        let chunk = rerun::log::Chunk::from_arrow_msg(&arrow).map_err(|e| bad(e.to_string()))?;
        let e = out
            .entry(
                chunk
                    .entity_path()
                    .to_string()
                    .trim_start_matches('/')
                    .to_string(),
            )
            .or_default();
        e.rows += chunk.num_rows();
        e.components.extend(
            chunk
                .component_descriptors()
                .map(|d| d.display_name().to_string()),
        );
        e.timelines
            .extend(chunk.timelines().keys().map(|t| t.as_str().to_string()));
    }
    Ok(out)
}
