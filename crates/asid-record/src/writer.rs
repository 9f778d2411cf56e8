//! [`McapRecorder`]: the [`Recorder`] that writes MCAP files.
//!
//! Crash safety: messages go into small chunks, built in memory and written whole. A chunk ends
//! after `chunk_max_messages` messages, `chunk_max_bytes` bytes or `chunk_max_span_ns` of record
//! time (arm clock), and on every `flush`; each ended chunk is handed to the operating system at
//! once, so a process killed with SIGKILL leaves a file whose whole records reach at least its last
//! ended chunk. `flush` also syncs the file to disk (`sync_on_flush`), which protects against a
//! power cut as well.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use asid_arm::{Record, Recorder, RunInfo};
use mcap::records::{MessageHeader, Metadata};
use mcap::{McapError, WriteOptions, Writer};

use crate::ros2::{self, Mirror};
use crate::schema::{self, LAYOUT, RUN_METADATA, TopicKind};

/// How a [`McapRecorder`] cuts chunks and syncs.
#[derive(Debug, Clone, PartialEq)]
pub struct RecorderOptions {
    /// A chunk ends after this many messages.
    pub chunk_max_messages: usize,
    /// A chunk ends once its messages hold this many bytes.
    pub chunk_max_bytes: usize,
    /// A chunk ends once its records span this much arm-clock time.
    pub chunk_max_span_ns: u64,
    /// `flush` syncs the file to disk (not only to the operating system).
    pub sync_on_flush: bool,
    /// Compress chunks with zstd (the Python and Foxglove
    /// readers decompress it).
    pub zstd: bool,
}

impl Default for RecorderOptions {
    fn default() -> Self {
        Self {
            chunk_max_messages: 1000,
            chunk_max_bytes: 1 << 20,
            chunk_max_span_ns: 50_000_000,
            sync_on_flush: true,
            zstd: false,
        }
    }
}

/// Channel ids of the fixed topics.
#[derive(Debug)]
struct Channels {
    state: u16,
    command: u16,
    action: u16,
    log: u16,
    /// Added with the first gripper state.
    gripper: Option<u16>,
    pose_schema: u16,
    poses: BTreeMap<String, u16>,
    /// The ROS 2 mirrors ([`crate::ros2`]), added with the first state / pose.
    mirrors: BTreeMap<&'static str, u16>,
}

/// Writes a run to an MCAP file (see [`crate::schema`] for the layout).
pub struct McapRecorder {
    path: PathBuf,
    /// None once finished.
    writer: Option<Writer<BufWriter<File>>>,
    /// The same file, for syncing.
    file: File,
    channels: Channels,
    sequences: BTreeMap<u16, u32>,
    chunk_messages: usize,
    chunk_bytes: usize,
    chunk_first_ns: Option<u64>,
    options: RecorderOptions,
}

impl std::fmt::Debug for McapRecorder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("McapRecorder")
            .field("path", &self.path)
            .field("finished", &self.writer.is_none())
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

fn io(e: McapError) -> std::io::Error {
    match e {
        McapError::Io(e) => e,
        other => std::io::Error::other(other),
    }
}

fn with_file(path: &Path, e: std::io::Error) -> std::io::Error {
    std::io::Error::new(e.kind(), format!("{}: {e}", path.display()))
}

impl McapRecorder {
    /// Creates (or truncates) `path` and writes the run info as metadata `asid.run`, then the
    /// channels, and syncs, so even a run killed at once leaves a file that says what it is.
    pub fn create(path: &Path, info: &RunInfo) -> std::io::Result<Self> {
        Self::create_with_options(path, info, RecorderOptions::default())
    }

    /// [`Self::create`] with chunking and sync options.
    pub fn create_with_options(
        path: &Path,
        info: &RunInfo,
        options: RecorderOptions,
    ) -> std::io::Result<Self> {
        Self::open(path, info, options).map_err(|e| with_file(path, e))
    }

    fn open(path: &Path, info: &RunInfo, options: RecorderOptions) -> std::io::Result<Self> {
        let file = File::create(path)?;
        let sync_handle = file.try_clone()?;
        let mut opts = WriteOptions::new()
            .profile(LAYOUT)
            .library(concat!("asid-record/", env!("CARGO_PKG_VERSION")))
            // Chunks are cut by this recorder; the writer's own size limit would end a chunk
            // without handing it to the operating system.
            .chunk_size(None)
            // Chunks are built in memory and written whole: a kill never leaves a half-written
            // chunk with a placeholder header in the middle of the file.
            .disable_seeking(true);
        opts = compression(opts, options.zstd)?;
        let writer = opts.create(BufWriter::new(file)).map_err(io)?;
        let mut rec = Self {
            path: path.to_path_buf(),
            writer: Some(writer),
            file: sync_handle,
            channels: Channels {
                state: 0,
                command: 0,
                action: 0,
                log: 0,
                gripper: None,
                pose_schema: 0,
                poses: BTreeMap::new(),
                mirrors: BTreeMap::new(),
            },
            sequences: BTreeMap::new(),
            chunk_messages: 0,
            chunk_bytes: 0,
            chunk_first_ns: None,
            options,
        };
        rec.write_metadata(RUN_METADATA, &run_metadata(info)?)?;
        rec.channels.state = rec.add_channel(TopicKind::State, schema::TOPIC_STATE)?;
        rec.channels.command = rec.add_channel(TopicKind::Command, schema::TOPIC_COMMAND)?;
        rec.channels.action = rec.add_channel(TopicKind::Action, schema::TOPIC_ACTION)?;
        rec.channels.log = rec.add_channel(TopicKind::Log, schema::TOPIC_LOG)?;
        rec.channels.pose_schema = rec.add_schema(TopicKind::Pose)?;
        rec.flush()?;
        Ok(rec)
    }

    /// The file being written.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn writer(&mut self) -> std::io::Result<&mut Writer<BufWriter<File>>> {
        self.writer.as_mut().ok_or_else(|| {
            std::io::Error::other(format!(
                "{}: the recording is finished; nothing more can be written",
                self.path.display()
            ))
        })
    }

    fn add_schema(&mut self, kind: TopicKind) -> std::io::Result<u16> {
        let data = serde_json::to_vec(&kind.json_schema()).map_err(std::io::Error::other)?;
        self.writer()?
            .add_schema(kind.schema_name(), "jsonschema", &data)
            .map_err(io)
    }

    fn add_channel(&mut self, kind: TopicKind, topic: &str) -> std::io::Result<u16> {
        let schema = self.add_schema(kind)?;
        self.writer()?
            .add_channel(schema, topic, "json", &BTreeMap::new())
            .map_err(io)
    }

    fn channel_for(&mut self, record: &Record) -> std::io::Result<u16> {
        Ok(match record {
            Record::State(_) => self.channels.state,
            Record::Command(_) => self.channels.command,
            Record::Action(_) => self.channels.action,
            Record::Event(_) => self.channels.log,
            Record::Gripper(_) => match self.channels.gripper {
                Some(id) => id,
                None => {
                    let id = self.add_channel(TopicKind::Gripper, schema::TOPIC_GRIPPER)?;
                    self.channels.gripper = Some(id);
                    id
                }
            },
            Record::Pose(p) => match self.channels.poses.get(&p.object) {
                Some(&id) => id,
                None => {
                    let schema = self.channels.pose_schema;
                    let topic = schema::pose_topic(&p.object);
                    let id = self
                        .writer()?
                        .add_channel(schema, &topic, "json", &BTreeMap::new())
                        .map_err(io)?;
                    self.channels.poses.insert(p.object.clone(), id);
                    id
                }
            },
        })
    }

    fn write_metadata(
        &mut self,
        name: &str,
        values: &BTreeMap<String, String>,
    ) -> std::io::Result<()> {
        let metadata = Metadata {
            name: name.into(),
            metadata: values.clone(),
        };
        self.writer()?.write_metadata(&metadata).map_err(io)?;
        self.end_chunk()
    }

    /// Ends the current chunk (if any) and hands everything to the operating system.
    fn end_chunk(&mut self) -> std::io::Result<()> {
        self.writer()?.flush().map_err(io)?;
        self.chunk_messages = 0;
        self.chunk_bytes = 0;
        self.chunk_first_ns = None;
        Ok(())
    }

    /// The channel of a ROS 2 mirror, added on first use.
    fn mirror_channel(&mut self, mirror: Mirror) -> std::io::Result<u16> {
        if let Some(&id) = self.channels.mirrors.get(mirror.topic()) {
            return Ok(id);
        }
        let definition = mirror.definition();
        let w = self.writer()?;
        let schema = w
            .add_schema(
                mirror.schema_name(),
                ros2::SCHEMA_ENCODING,
                definition.as_bytes(),
            )
            .map_err(io)?;
        let id = w
            .add_channel(
                schema,
                mirror.topic(),
                ros2::MESSAGE_ENCODING,
                &BTreeMap::new(),
            )
            .map_err(io)?;
        self.channels.mirrors.insert(mirror.topic(), id);
        Ok(id)
    }

    /// Writes one message; ends the chunk when it is full.
    fn emit(&mut self, channel_id: u16, stamp: u64, data: &[u8]) -> std::io::Result<()> {
        let sequence = self.sequences.entry(channel_id).or_insert(0);
        *sequence = sequence.wrapping_add(1);
        let header = MessageHeader {
            channel_id,
            sequence: *sequence,
            log_time: stamp,
            publish_time: stamp,
        };
        self.writer()?
            .write_to_known_channel(&header, data)
            .map_err(io)?;
        let first = *self.chunk_first_ns.get_or_insert(stamp);
        self.chunk_messages += 1;
        self.chunk_bytes += data.len();
        let o = &self.options;
        if self.chunk_messages >= o.chunk_max_messages
            || self.chunk_bytes >= o.chunk_max_bytes
            || stamp.saturating_sub(first) >= o.chunk_max_span_ns
        {
            self.end_chunk()?;
        }
        Ok(())
    }

    fn put(&mut self, record: &Record) -> std::io::Result<()> {
        if let Some(field) = schema::non_finite_field(record) {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!(
                    "record at {} ns: `{field}` holds a non-finite number, which JSON cannot carry",
                    record.stamp_ns()
                ),
            ));
        }
        let data = schema::encode(record).map_err(std::io::Error::other)?;
        let stamp = record.stamp_ns();
        // The mirror is encoded first: a record it cannot carry is refused before anything of
        // it is written.
        let mirror = match record {
            Record::State(s) => Some((Mirror::JointStates, ros2::joint_state(s))),
            Record::Pose(p) => Some((Mirror::Tf, ros2::tf(p))),
            _ => None,
        }
        .map(|(mirror, data)| {
            data.map(|d| (mirror, d)).map_err(|e| {
                std::io::Error::new(
                    std::io::ErrorKind::InvalidInput,
                    format!("record at {stamp} ns: {} mirror: {e}", mirror.topic()),
                )
            })
        })
        .transpose()?;
        let channel_id = self.channel_for(record)?;
        self.emit(channel_id, stamp, &data)?;
        if let Some((mirror, data)) = mirror {
            let channel_id = self.mirror_channel(mirror)?;
            self.emit(channel_id, stamp, &data)?;
        }
        Ok(())
    }
}

fn compression(opts: WriteOptions, zstd: bool) -> std::io::Result<WriteOptions> {
    Ok(opts.compression(zstd.then_some(mcap::Compression::Zstd)))
}

/// The `asid.run` metadata: plain strings where the field is a string, JSON otherwise.
fn run_metadata(info: &RunInfo) -> std::io::Result<BTreeMap<String, String>> {
    fn json<T: serde::Serialize>(v: &T) -> std::io::Result<String> {
        serde_json::to_string(v).map_err(std::io::Error::other)
    }
    Ok(BTreeMap::from([
        ("format".to_string(), LAYOUT.to_string()),
        ("robot".to_string(), info.robot.clone()),
        ("scene".to_string(), info.scene.clone()),
        ("plan".to_string(), info.plan.clone()),
        (
            "software_version".to_string(),
            info.software_version.clone(),
        ),
        ("arm".to_string(), json(&info.arm)?),
        ("extra".to_string(), json(&info.extra)?),
    ]))
}

impl Recorder for McapRecorder {
    fn write(&mut self, record: &Record) -> std::io::Result<()> {
        self.put(record)
    }

    fn metadata(&mut self, name: &str, values: &BTreeMap<String, String>) -> std::io::Result<()> {
        if name == RUN_METADATA {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!("metadata name `{RUN_METADATA}` is reserved for the run info"),
            ));
        }
        self.write_metadata(name, values)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.end_chunk()?;
        if self.options.sync_on_flush {
            self.file.sync_data()?;
        }
        Ok(())
    }

    fn finish(&mut self) -> std::io::Result<()> {
        let Some(mut writer) = self.writer.take() else {
            return Ok(());
        };
        writer.finish().map_err(io)?;
        let mut out = writer.into_inner();
        out.flush()?;
        self.file.sync_all()
    }
}
