//! The bytes of a CSV as text: UTF-8 (with or without BOM) or GBK, as Windows writes it;
//! a byte sequence neither can read is named with its line.

use super::*;

pub(super) fn decode(bytes: &[u8]) -> Result<(String, Encoding), FileError> {
    if let Some(rest) = bytes.strip_prefix(b"\xEF\xBB\xBF") {
        return match std::str::from_utf8(rest) {
            Ok(text) => Ok((text.to_owned(), Encoding::Utf8)),
            Err(e) => Err(undecodable("UTF-8", bytes, 3 + e.valid_up_to())),
        };
    }
    if let Ok(text) = std::str::from_utf8(bytes) {
        return Ok((text.to_owned(), Encoding::Utf8));
    }
    let mut decoder = GBK.new_decoder_without_bom_handling();
    // Two GBK bytes become three UTF-8 bytes for a Chinese character.
    let mut text = String::with_capacity(bytes.len() / 2 * 3 + 16);
    let mut read = 0;
    loop {
        let (result, more) =
            decoder.decode_to_string_without_replacement(&bytes[read..], &mut text, true);
        read += more;
        match result {
            DecoderResult::InputEmpty => return Ok((text, Encoding::Gbk)),
            DecoderResult::OutputFull => text.reserve(bytes.len() - read + 16),
            DecoderResult::Malformed(bad, after) => {
                let offset = read - usize::from(bad) - usize::from(after);
                return Err(undecodable("GBK", bytes, offset));
            }
        }
    }
}

pub(super) fn undecodable(encoding: &'static str, bytes: &[u8], offset: usize) -> FileError {
    FileError::Undecodable {
        encoding,
        line: line_at(bytes, offset),
        offset,
    }
}

pub(super) fn line_at(bytes: &[u8], offset: usize) -> usize {
    bytes[..offset.min(bytes.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}
