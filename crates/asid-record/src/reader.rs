//! Reading recordings back, finished or cut.
//!
//! The reader walks the file's records from the start and never needs the summary, so a file
//! whose writer was killed reads up to its last whole record; what follows is reported as
//! unusable bytes, not as an error. Damage costs only the damaged stretch: a chunk whose CRC or
//! compression fails, or a record whose length field is impossible, is skipped to the next sound
//! record and listed in [`ReadReport::damaged`]; channels defined in a lost chunk are taken from
//! the summary section. A message that does not decode, and topics or schemas asid does not
//! write, are errors naming the file. The ROS 2 mirrors (`/joint_states`, `/tf`) are checked
//! message by message and counted; the JSON topics are what is read. Chunks may be uncompressed, zstd or lz4.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use asid_arm::{Recording, RunInfo};
use mcap::MAGIC;
use mcap::read::{ChunkReader, parse_record};
use mcap::records::{self, op};
use serde::{Deserialize, Serialize};

use crate::RecordError;
use crate::ros2::Mirror;
use crate::schema::{LAYOUT, RUN_METADATA, TopicKind};

/// Messages of one topic.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TopicCount {
    /// The topic.
    pub topic: String,
    /// Its schema's name.
    pub schema: String,
    /// Messages read.
    pub messages: u64,
    /// Log time of the first message (arm clock).
    pub first_ns: Option<u64>,
    /// Log time of the last message (arm clock).
    pub last_ns: Option<u64>,
}

/// How much of a file was read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReadReport {
    /// The file.
    pub file: PathBuf,
    /// Its size.
    pub file_bytes: u64,
    /// Bytes up to the end of the last whole record.
    pub read_bytes: u64,
    /// Bytes after it (a record cut short by a crash).
    pub unusable_bytes: u64,
    /// The file was finished: footer and closing magic are present.
    pub finished: bool,
    /// Why reading ended before a footer, for an unfinished file.
    pub cut: Option<String>,
    /// Chunks read.
    pub chunks: u64,
    /// Topics in the order their channels appeared.
    pub topics: Vec<TopicCount>,
    /// Damaged stretches skipped (a bad chunk, a bad length field): each costs only itself.
    #[serde(default)]
    pub damaged: Vec<Damage>,
    /// Messages skipped because the chunk defining their channel was damaged.
    #[serde(default)]
    pub orphan_messages: u64,
}

/// A damaged stretch of a file that the reader skipped.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Damage {
    /// First byte of the damaged record.
    pub offset: u64,
    /// Bytes skipped.
    pub bytes: u64,
    /// What was wrong.
    pub reason: String,
}

/// Reads a recording (finished or cut).
pub fn read_recording(path: &Path) -> Result<Recording, RecordError> {
    read_with_report(path).map(|(recording, _)| recording)
}

/// Reads a recording and reports how much of the file was usable.
pub fn read_with_report(path: &Path) -> Result<(Recording, ReadReport), RecordError> {
    let bytes = asid_core::read_limit::read_limited(path, asid_core::read_limit::MCAP_MAX_BYTES)
        .map_err(|os_error| RecordError::Io {
            file: path.to_path_buf(),
            os_error,
        })?;
    read_bytes(path, &bytes)
}

/// Reads a recording held in memory; `path` names it in errors and the report.
pub fn read_bytes(path: &Path, bytes: &[u8]) -> Result<(Recording, ReadReport), RecordError> {
    let mut r = Reader {
        file: path.to_path_buf(),
        recording: Recording::default(),
        schemas: HashMap::new(),
        channels: HashMap::new(),
        topics: Vec::new(),
        lost_any: false,
        pending: Vec::new(),
        orphans: 0,
    };
    let mut report = ReadReport {
        file: path.to_path_buf(),
        file_bytes: bytes.len() as u64,
        read_bytes: 0,
        unusable_bytes: 0,
        finished: false,
        cut: None,
        chunks: 0,
        topics: Vec::new(),
        damaged: Vec::new(),
        orphan_messages: 0,
    };
    if bytes.len() < MAGIC.len() {
        if !MAGIC.starts_with(bytes) {
            return Err(RecordError::NotMcap { file: r.file });
        }
        report.unusable_bytes = bytes.len() as u64;
        report.cut = Some("the file ends inside the opening magic".into());
        return Ok((r.recording, report));
    }
    if &bytes[..MAGIC.len()] != MAGIC {
        return Err(RecordError::NotMcap { file: r.file });
    }
    let mut pos = MAGIC.len();
    let mut data_ended = false;
    let cut = loop {
        let rest = &bytes[pos..];
        if rest.is_empty() {
            break Some("the file ends after a whole record, without a footer".to_string());
        }
        if rest.len() < 9 {
            break Some(format!("the record at byte {pos} is cut inside its header"));
        }
        let opcode = rest[0];
        let len = record_len(rest);
        if opcode == 0 {
            // Opcode 0 is reserved: zeros here are space a crashed file system filled in.
            break Some(format!("zeros from byte {pos} on"));
        }
        if len > (rest.len() - 9) as u64 {
            let why = format!(
                "the record at byte {pos} needs {len} bytes, {} remain",
                rest.len() - 9
            );
            // A damaged length field, not a cut, when whole records follow: skip to them.
            match resync(bytes, pos + 1) {
                Some(next) => {
                    r.lose(
                        &mut report,
                        pos,
                        next,
                        format!("{why} (damaged length field)"),
                    );
                    pos = next;
                    continue;
                }
                None => break Some(why),
            }
        }
        let body = &rest[9..9 + len as usize];
        let end = pos + 9 + len as usize;
        if opcode == op::FOOTER {
            let tail = &bytes[end..];
            if tail == MAGIC {
                report.finished = true;
                pos = bytes.len();
                break None;
            }
            pos = end;
            break Some(format!("the closing magic at byte {end} is cut"));
        }
        if opcode == op::DATA_END {
            data_ended = true;
        } else if data_ended {
            r.summary_record(pos as u64, opcode, body)?;
        } else {
            // The summary section after DataEnd repeats schemas and channels and indexes
            // what came before: nothing new for a linear reader.
            if let Some(why) = r.record(pos as u64, opcode, body, &mut report)? {
                // Damage inside one record costs that record: go on after it when a whole
                // record follows, else at the next chunk that checks out.
                let next = if header_plausible(bytes, end) {
                    Some(end)
                } else {
                    resync(bytes, pos + 1)
                };
                match next {
                    Some(next) => {
                        r.lose(&mut report, pos, next, why);
                        pos = next;
                        continue;
                    }
                    None => return Err(r.corrupt(pos as u64, why)),
                }
            }
        }
        pos = end;
    };
    report.read_bytes = pos as u64;
    report.unusable_bytes = (bytes.len() - pos) as u64;
    report.cut = cut;
    r.adopt_orphans()?;
    report.topics = r.topics;
    report.orphan_messages = r.orphans;
    sort_by_stamp(&mut r.recording);
    Ok((r.recording, report))
}

/// Largest uncompressed chunk read (asid writes chunks of about 64 KiB): a damaged size field
/// must not make the decompressor reserve the machine's memory.
const MAX_CHUNK_BYTES: u64 = 256 << 20;

/// A chunk's records decompressed, CRC-checked and with every record length inside the data,
/// with a header saying so: what the mcap crate may then parse without trusting any length.
fn unpack_chunk(
    header: records::ChunkHeader,
    data: &[u8],
) -> Result<(records::ChunkHeader, Vec<u8>), String> {
    let size = header.uncompressed_size;
    if size > MAX_CHUNK_BYTES {
        return Err(format!(
            "claims {size} uncompressed bytes (at most {MAX_CHUNK_BYTES})"
        ));
    }
    // Streaming, so a size field that lies costs no more than the data really holds.
    let read = |r: &mut dyn std::io::Read| -> std::io::Result<Vec<u8>> {
        let mut out = Vec::new();
        std::io::Read::read_to_end(&mut std::io::Read::take(r, size + 1), &mut out)?;
        Ok(out)
    };
    let plain = match header.compression.as_str() {
        "" => data.to_vec(),
        "zstd" => zstd::stream::read::Decoder::new(data)
            .and_then(|mut d| read(&mut d))
            .map_err(|e| format!("zstd: {e}"))?,
        "lz4" => lz4::Decoder::new(data)
            .and_then(|mut d| read(&mut d))
            .map_err(|e| format!("lz4: {e}"))?,
        other => return Err(format!("unsupported compression `{other}`")),
    };
    if plain.len() as u64 != size {
        return Err(format!(
            "{} bytes after decompression, the header says {size}",
            plain.len()
        ));
    }
    if header.uncompressed_crc != 0 && crc32fast::hash(&plain) != header.uncompressed_crc {
        return Err("bad CRC of the uncompressed data".into());
    }
    let mut pos = 0;
    while pos < plain.len() {
        let rest = &plain[pos..];
        if rest.len() < 9 || record_len(rest) > (rest.len() - 9) as u64 {
            return Err(format!("record at chunk byte {pos} runs past the chunk"));
        }
        pos += 9 + record_len(rest) as usize;
    }
    let header = records::ChunkHeader {
        compression: String::new(),
        uncompressed_crc: 0,
        compressed_size: size,
        ..header
    };
    Ok((header, plain))
}

/// The length field of the record whose header starts `rest` (9 bytes or more).
fn record_len(rest: &[u8]) -> u64 {
    let mut len_bytes = [0u8; 8];
    len_bytes.copy_from_slice(&rest[1..9]);
    u64::from_le_bytes(len_bytes)
}

/// Whether a whole record with a known opcode starts at `at` (or the file ends there).
fn header_plausible(bytes: &[u8], at: usize) -> bool {
    if at == bytes.len() {
        return true;
    }
    let Some(rest) = bytes.get(at..).filter(|r| r.len() >= 9) else {
        return false;
    };
    (op::HEADER..=op::DATA_END).contains(&rest[0]) && record_len(rest) <= (rest.len() - 9) as u64
}

/// The first offset at or after `from` where a chunk that checks out (its CRC and every record
/// inside it) or the footer with the closing magic starts: where reading goes on after damage.
fn resync(bytes: &[u8], from: usize) -> Option<usize> {
    (from..bytes.len().saturating_sub(8)).find(|&q| {
        let rest = &bytes[q..];
        let opcode = rest[0];
        if opcode != op::CHUNK && opcode != op::FOOTER {
            return false;
        }
        let len = record_len(rest);
        if len > (rest.len() - 9) as u64 {
            return false;
        }
        let end = q + 9 + len as usize;
        if opcode == op::FOOTER {
            return &bytes[end..] == MAGIC;
        }
        let Ok(records::Record::Chunk { header, data }) = parse_record(opcode, &bytes[q + 9..end])
        else {
            return false;
        };
        let Ok((header, data)) = unpack_chunk(header, &data) else {
            return false;
        };
        ChunkReader::new(header, &data).is_ok_and(|mut records| records.all(|r| r.is_ok()))
    })
}

/// What a channel carries.
#[derive(Clone, Copy)]
enum Carries {
    /// One of asid's JSON topics.
    Asid(TopicKind),
    /// A ROS 2 mirror: checked and counted, not read.
    Mirror(Mirror),
}

/// A channel as the reader knows it.
struct ChannelInfo {
    kind: Carries,
    topic: String,
    /// Index into `Reader::topics`.
    count: usize,
}

struct Reader {
    file: PathBuf,
    recording: Recording,
    /// Schema id -> (name, encoding).
    schemas: HashMap<u16, (String, String)>,
    channels: HashMap<u16, ChannelInfo>,
    topics: Vec<TopicCount>,
    /// Some damage was skipped: messages of channels never seen are its loss, not an error.
    lost_any: bool,
    /// Messages on channels not (yet) defined after damage: offset, channel, log time, data.
    pending: Vec<(u64, u16, u64, Vec<u8>)>,
    orphans: u64,
}

impl Reader {
    /// Records the damaged stretch `from..to` as lost.
    fn lose(&mut self, report: &mut ReadReport, from: usize, to: usize, reason: String) {
        self.lost_any = true;
        report.damaged.push(Damage {
            offset: from as u64,
            bytes: (to - from) as u64,
            reason,
        });
    }

    fn corrupt(&self, offset: u64, message: impl ToString) -> RecordError {
        RecordError::Corrupt {
            file: self.file.clone(),
            offset,
            message: message.to_string(),
        }
    }

    /// One whole top-level record: `Ok(Some(why))` when it is damaged (it is then skipped
    /// whole), an error when it is sound but not what an asid recording holds.
    fn record(
        &mut self,
        offset: u64,
        opcode: u8,
        body: &[u8],
        report: &mut ReadReport,
    ) -> Result<Option<String>, RecordError> {
        let record = match parse_record(opcode, body) {
            Ok(r) => r,
            Err(e) => return Ok(Some(e.to_string())),
        };
        if let records::Record::Chunk { header, data } = record {
            report.chunks += 1;
            if header.uncompressed_size > MAX_CHUNK_BYTES {
                return Ok(Some(format!(
                    "chunk claims {} uncompressed bytes (at most {MAX_CHUNK_BYTES})",
                    header.uncompressed_size
                )));
            }
            let (header, data) = match unpack_chunk(header, &data) {
                Ok(x) => x,
                Err(e) => return Ok(Some(format!("chunk: {e}"))),
            };
            let reader = match ChunkReader::new(header, &data) {
                Ok(r) => r,
                Err(e) => return Ok(Some(format!("chunk: {e}"))),
            };
            // A chunk either reads whole or is damage: collect before applying.
            let inner: Vec<records::Record<'_>> = match reader.collect::<Result<_, _>>() {
                Ok(v) => v,
                Err(e) => return Ok(Some(format!("chunk: {e}"))),
            };
            for rec in inner {
                self.apply(offset, rec)?;
            }
            return Ok(None);
        }
        self.apply(offset, record)?;
        Ok(None)
    }

    /// Schemas and channels of the summary section: they define the channels of messages
    /// whose chunk with the definitions was damaged.
    fn summary_record(&mut self, offset: u64, opcode: u8, body: &[u8]) -> Result<(), RecordError> {
        if !self.lost_any || !matches!(opcode, op::SCHEMA | op::CHANNEL) {
            return Ok(());
        }
        match parse_record(opcode, body) {
            Ok(record) => self.apply(offset, record),
            Err(_) => Ok(()),
        }
    }

    /// Messages held back for a channel defined only in the summary section.
    fn adopt_orphans(&mut self) -> Result<(), RecordError> {
        for (offset, channel_id, log_time, data) in std::mem::take(&mut self.pending) {
            if self.channels.contains_key(&channel_id) {
                self.message(offset, channel_id, log_time, &data)?;
            } else {
                self.orphans += 1;
            }
        }
        Ok(())
    }

    fn message(
        &mut self,
        offset: u64,
        channel_id: u16,
        log_time: u64,
        data: &[u8],
    ) -> Result<(), RecordError> {
        let Some(info) = self.channels.get(&channel_id) else {
            if self.lost_any {
                self.pending
                    .push((offset, channel_id, log_time, data.to_vec()));
                return Ok(());
            }
            return Err(self.corrupt(
                offset,
                format!("message on channel {channel_id} that was never defined"),
            ));
        };
        let count = &mut self.topics[info.count];
        let decoded = match info.kind {
            Carries::Asid(kind) => crate::schema::decode(kind, data)
                .map(Some)
                .map_err(|e| e.to_string()),
            Carries::Mirror(m) => m.check(data).map(|()| None),
        };
        let record = decoded.map_err(|message| RecordError::Decode {
            file: self.file.clone(),
            topic: info.topic.clone(),
            index: count.messages,
            message,
        })?;
        count.messages += 1;
        count.first_ns = Some(count.first_ns.map_or(log_time, |t| t.min(log_time)));
        count.last_ns = Some(count.last_ns.map_or(log_time, |t| t.max(log_time)));
        if let Some(record) = record {
            self.recording.push(record);
        }
        Ok(())
    }

    fn apply(&mut self, offset: u64, record: records::Record<'_>) -> Result<(), RecordError> {
        match record {
            records::Record::Schema { header, .. } => {
                self.schemas
                    .insert(header.id, (header.name, header.encoding));
            }
            records::Record::Channel(c) => self.channel(offset, c)?,
            records::Record::Message { header, data } => {
                self.message(offset, header.channel_id, header.log_time, &data)?;
            }
            records::Record::Metadata(m) => self.metadata(m)?,
            // Header, indexes, attachments and private records carry nothing asid reads.
            _ => {}
        }
        Ok(())
    }

    fn channel(&mut self, offset: u64, c: records::Channel) -> Result<(), RecordError> {
        if self.channels.contains_key(&c.id) {
            return Ok(());
        }
        let kind = match (TopicKind::of_topic(&c.topic), Mirror::of_topic(&c.topic)) {
            (Some(k), _) => Carries::Asid(k),
            (None, Some(m)) => Carries::Mirror(m),
            (None, None) => {
                return Err(RecordError::UnknownTopic {
                    file: self.file.clone(),
                    topic: c.topic,
                });
            }
        };
        let (expected_schema, expected_encoding) = match kind {
            Carries::Asid(k) => (k.schema_name(), "json"),
            Carries::Mirror(m) => (m.schema_name(), crate::ros2::MESSAGE_ENCODING),
        };
        let schema = match c.schema_id {
            0 => String::new(),
            id => match self.schemas.get(&id) {
                Some((name, _)) => name.clone(),
                None => {
                    return Err(self.corrupt(
                        offset,
                        format!("channel `{}` names schema {id}, never defined", c.topic),
                    ));
                }
            },
        };
        if schema != expected_schema {
            return Err(RecordError::UnknownSchema {
                file: self.file.clone(),
                topic: c.topic,
                schema,
                expected: expected_schema.into(),
            });
        }
        if c.message_encoding != expected_encoding {
            return Err(RecordError::Encoding {
                file: self.file.clone(),
                topic: c.topic,
                encoding: c.message_encoding,
            });
        }
        let count = match self.topics.iter().position(|t| t.topic == c.topic) {
            Some(i) => i,
            None => {
                self.topics.push(TopicCount {
                    topic: c.topic.clone(),
                    schema,
                    messages: 0,
                    first_ns: None,
                    last_ns: None,
                });
                self.topics.len() - 1
            }
        };
        self.channels.insert(
            c.id,
            ChannelInfo {
                kind,
                topic: c.topic,
                count,
            },
        );
        Ok(())
    }

    fn metadata(&mut self, m: records::Metadata) -> Result<(), RecordError> {
        if m.name == RUN_METADATA {
            self.recording.info = Some(run_info(&self.file, &m.metadata)?);
            return Ok(());
        }
        // A name written again (e.g. the final clock offset) updates the earlier values.
        self.recording
            .metadata
            .entry(m.name)
            .or_default()
            .extend(m.metadata);
        Ok(())
    }
}

/// The run info from the `asid.run` metadata.
fn run_info(file: &Path, m: &BTreeMap<String, String>) -> Result<RunInfo, RecordError> {
    let bad = |message: String| RecordError::Metadata {
        file: file.to_path_buf(),
        name: RUN_METADATA.into(),
        message,
    };
    let get = |key: &str| {
        m.get(key)
            .cloned()
            .ok_or_else(|| bad(format!("no key `{key}`")))
    };
    let format = get("format")?;
    if format != LAYOUT {
        return Err(bad(format!("layout `{format}`, expected `{LAYOUT}`")));
    }
    let arm = serde_json::from_str(&get("arm")?).map_err(|e| bad(format!("key `arm`: {e}")))?;
    let extra = match m.get("extra") {
        Some(s) => serde_json::from_str(s).map_err(|e| bad(format!("key `extra`: {e}")))?,
        None => BTreeMap::new(),
    };
    Ok(RunInfo {
        robot: get("robot")?,
        scene: get("scene")?,
        arm,
        plan: get("plan")?,
        software_version: get("software_version")?,
        extra,
    })
}

/// Time order per kind; stable, so records with equal stamps keep their file order.
fn sort_by_stamp(r: &mut Recording) {
    r.actions.sort_by_key(|a| a.stamp_ns);
    r.commands.sort_by_key(|c| c.stamp_ns);
    r.states.sort_by_key(|s| s.stamp_ns);
    r.poses.sort_by_key(|p| p.stamp_ns);
    r.events.sort_by_key(|e| e.stamp_ns);
    r.grippers.sort_by_key(|g| g.stamp_ns);
}
