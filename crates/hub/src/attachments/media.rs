//! Pictures as others receive them: metadata (EXIF with its GPS position, XMP, IPTC, text chunks) taken
//! out without re-encoding, the size after the camera's rotation, a thumbnail and a tiny blurred preview
//! made from the decoded picture. A JPEG whose EXIF says "rotate" is the one case re-encoded: without
//! that tag it would show sideways, so the rotation is applied to the pixels.
use base64::Engine as _;
use bytes::Bytes;
use image::{DynamicImage, ImageDecoder, ImageReader, Limits};
use img_parts::jpeg::{markers, Jpeg};
use img_parts::png::Png;
use img_parts::webp::WebP;
use img_parts::ImageEXIF;
use std::io::Cursor;

/// Thumbnails fit this box (the conversation shows at most about 300 px).
pub const THUMB_SIDE: u32 = 480;
/// The inline preview fits this box.
const PREVIEW_SIDE: u32 = 24;
/// A picture larger than this on either side, or needing more memory to decode, is refused.
const MAX_SIDE: u32 = 16_384;
const MAX_DECODE_BYTES: u64 = 512 * 1024 * 1024;

/// A picture ready to be stored.
pub struct Picture {
    /// The bytes others download: the original without its metadata.
    pub bytes: Vec<u8>,
    pub width: u32,
    pub height: u32,
    /// A JPEG at most [`THUMB_SIDE`] a side.
    pub thumbnail: Vec<u8>,
    /// `data:image/png;base64,…`
    pub preview: String,
}

/// Why a picture cannot be taken.
#[derive(Debug, thiserror::Error)]
#[error("the picture could not be read: {0}")]
pub struct Unreadable(String);

/// Strips, measures and shrinks one picture of type `mime` (one of the allow-list's images).
pub fn picture(original: Vec<u8>, mime: &str) -> Result<Picture, Unreadable> {
    let stripped = strip_metadata(Bytes::from(original), mime)?;
    let (decoded, rotated) = decode(&stripped)?;
    let bytes = if rotated { encode_jpeg(&decoded, 90)? } else { stripped.to_vec() };
    let thumbnail = encode_jpeg(&decoded.thumbnail(THUMB_SIDE, THUMB_SIDE), 80)?;
    let mut png = Vec::new();
    flatten(&decoded.thumbnail(PREVIEW_SIDE, PREVIEW_SIDE))
        .write_to(&mut Cursor::new(&mut png), image::ImageFormat::Png)
        .map_err(|e| Unreadable(e.to_string()))?;
    let preview = format!("data:image/png;base64,{}", base64::engine::general_purpose::STANDARD.encode(png));
    Ok(Picture { bytes, width: decoded.width(), height: decoded.height(), thumbnail, preview })
}

/// The picture without EXIF, XMP, IPTC or text metadata (colour profiles are kept: they are not about
/// the person).
fn strip_metadata(b: Bytes, mime: &str) -> Result<Bytes, Unreadable> {
    let bad = |e: img_parts::Error| Unreadable(e.to_string());
    Ok(match mime {
        "image/jpeg" => {
            let mut j = Jpeg::from_bytes(b).map_err(bad)?;
            j.segments_mut().retain(|s| !matches!(s.marker(), markers::APP1 | markers::APP13 | markers::COM));
            j.encoder().bytes()
        }
        "image/png" => {
            let mut p = Png::from_bytes(b).map_err(bad)?;
            p.chunks_mut().retain(|c| !matches!(&c.kind(), b"eXIf" | b"tEXt" | b"zTXt" | b"iTXt" | b"tIME"));
            p.encoder().bytes()
        }
        "image/webp" => {
            let mut w = WebP::from_bytes(b).map_err(bad)?;
            w.set_exif(None);
            w.remove_chunks_by_id(*b"XMP ");
            w.encoder().bytes()
        }
        // GIF carries no EXIF.
        _ => b,
    })
}

/// Decodes within bounds; `true` when the camera's rotation had to be applied to the pixels.
fn decode(bytes: &[u8]) -> Result<(DynamicImage, bool), Unreadable> {
    let bad = |e: image::ImageError| Unreadable(e.to_string());
    let mut reader =
        ImageReader::new(Cursor::new(bytes)).with_guessed_format().map_err(|e| Unreadable(e.to_string()))?;
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(MAX_DECODE_BYTES);
    reader.limits(limits);
    let mut decoder = reader.into_decoder().map_err(bad)?;
    let orientation = decoder.orientation().map_err(bad)?;
    let mut img = DynamicImage::from_decoder(decoder).map_err(bad)?;
    let rotated = orientation != image::metadata::Orientation::NoTransforms;
    img.apply_orientation(orientation);
    Ok((img, rotated))
}

/// Transparent pixels over white (a JPEG has no alpha).
fn flatten(img: &DynamicImage) -> DynamicImage {
    if !img.color().has_alpha() {
        return DynamicImage::ImageRgb8(img.to_rgb8());
    }
    let mut out = image::RgbImage::new(img.width(), img.height());
    for (x, y, p) in img.to_rgba8().enumerate_pixels() {
        let a = u16::from(p[3]);
        let mix = |c: u8| ((u16::from(c) * a + 255 * (255 - a)) / 255) as u8;
        out.put_pixel(x, y, image::Rgb([mix(p[0]), mix(p[1]), mix(p[2])]));
    }
    DynamicImage::ImageRgb8(out)
}

fn encode_jpeg(img: &DynamicImage, quality: u8) -> Result<Vec<u8>, Unreadable> {
    let mut out = Vec::new();
    let encoder = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, quality);
    flatten(img).write_with_encoder(encoder).map_err(|e| Unreadable(e.to_string()))?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jpeg_with_gps() -> Vec<u8> {
        let img = DynamicImage::ImageRgb8(image::RgbImage::from_pixel(64, 32, image::Rgb([200, 30, 30])));
        let plain = encode_jpeg(&img, 90).unwrap();
        let mut j = Jpeg::from_bytes(Bytes::from(plain)).unwrap();
        j.set_exif(Some(Bytes::from_static(b"Exif\0\0MM\0*\0\0\0\x08GPSLatitude 52.52")));
        j.encoder().bytes().to_vec()
    }

    #[test]
    fn exif_is_gone_from_the_picture_and_its_thumbnail() {
        let original = jpeg_with_gps();
        assert!(original.windows(11).any(|w| w == b"GPSLatitude"));
        let p = picture(original, "image/jpeg").unwrap();
        assert_eq!((p.width, p.height), (64, 32));
        for bytes in [&p.bytes, &p.thumbnail] {
            assert!(!bytes.windows(11).any(|w| w == b"GPSLatitude"));
            assert!(Jpeg::from_bytes(Bytes::from(bytes.clone())).unwrap().exif().is_none());
        }
        assert!(p.preview.starts_with("data:image/png;base64,"));
    }

    #[test]
    fn what_is_not_a_picture_is_refused() {
        assert!(picture(b"\xFF\xD8\xFF\xE0 not really".to_vec(), "image/jpeg").is_err());
    }
}
