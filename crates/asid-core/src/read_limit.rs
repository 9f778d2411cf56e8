//! Reading input files with a size cap, so a device (`/dev/zero`), a pipe that never closes or a
//! runaway file cannot make a command read forever or fill memory.

use std::io::Read;
use std::path::Path;

/// Scene, robot and tool files.
pub const CONFIG_MAX_BYTES: u64 = 1 << 20;
/// URDF files.
pub const URDF_MAX_BYTES: u64 = 16 << 20;
/// Plan and JSON episode files.
pub const JSON_MAX_BYTES: u64 = 256 << 20;
/// MCAP recordings.
pub const MCAP_MAX_BYTES: u64 = 8 << 30;

/// Reads at most `limit` bytes of `path`; a longer input is an error of kind
/// [`std::io::ErrorKind::FileTooLarge`] saying the limit.
pub fn read_limited(path: &Path, limit: u64) -> std::io::Result<Vec<u8>> {
    let file = std::fs::File::open(path)?;
    let mut bytes = Vec::new();
    file.take(limit.saturating_add(1)).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        return Err(std::io::Error::new(
            std::io::ErrorKind::FileTooLarge,
            format!("longer than {limit} bytes, the limit for this kind of file"),
        ));
    }
    Ok(bytes)
}

/// [`read_limited`] as UTF-8 text.
pub fn read_limited_string(path: &Path, limit: u64) -> std::io::Result<String> {
    String::from_utf8(read_limited(path, limit)?)
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e.utf8_error()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dev_zero_stops_at_the_limit() {
        let path = Path::new("/dev/zero");
        if !path.exists() {
            return;
        }
        let e = read_limited(path, 1000).expect_err("endless input");
        assert_eq!(e.kind(), std::io::ErrorKind::FileTooLarge);
        assert!(e.to_string().contains("1000 bytes"), "{e}");
    }

    #[test]
    fn a_file_at_the_limit_reads_whole() {
        let path = std::env::temp_dir().join(format!("asid-read-limit-{}", std::process::id()));
        std::fs::write(&path, b"12345").expect("write");
        assert_eq!(read_limited(&path, 5).expect("at the limit"), b"12345");
        assert!(read_limited(&path, 4).is_err());
        let _ = std::fs::remove_file(&path);
    }
}
