//! QR codes of offer and request URIs, as SVG or PNG, for a wallet's camera.

use std::io::Write;

use flate2::write::ZlibEncoder;
use flate2::{Compression, Crc};
use qrcode::render::svg;
use qrcode::{EcLevel, QrCode};

/// Pixels per module of the PNG rendering.
const SCALE: usize = 6;
/// Quiet zone around the code, in modules (ISO/IEC 18004 asks for 4).
const QUIET: usize = 4;

fn code(text: &str) -> anyhow::Result<QrCode> {
    Ok(QrCode::with_error_correction_level(
        text.as_bytes(),
        EcLevel::M,
    )?)
}

/// The QR code of `text` as an SVG document.
pub fn svg(text: &str) -> anyhow::Result<String> {
    Ok(code(text)?
        .render::<svg::Color<'_>>()
        .min_dimensions(256, 256)
        .quiet_zone(true)
        .build())
}

/// The QR code of `text` as a greyscale PNG.
pub fn png(text: &str) -> anyhow::Result<Vec<u8>> {
    let code = code(text)?;
    let modules = code.width();
    let size = (modules + 2 * QUIET) * SCALE;
    let dark = code.to_colors();
    // One filter byte (0: none) per row, then one byte per pixel.
    let mut raw = Vec::with_capacity(size * (size + 1));
    for y in 0..size {
        raw.push(0);
        for x in 0..size {
            let (mx, my) = (x / SCALE, y / SCALE);
            let inside =
                (QUIET..QUIET + modules).contains(&mx) && (QUIET..QUIET + modules).contains(&my);
            let is_dark =
                inside && dark[(my - QUIET) * modules + (mx - QUIET)] == qrcode::Color::Dark;
            raw.push(if is_dark { 0 } else { 255 });
        }
    }
    let mut zlib = ZlibEncoder::new(Vec::new(), Compression::default());
    zlib.write_all(&raw)?;
    let data = zlib.finish()?;

    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    let side = u32::try_from(size)?.to_be_bytes();
    let mut header = Vec::with_capacity(13);
    header.extend_from_slice(&side);
    header.extend_from_slice(&side);
    // Bit depth 8, colour type 0 (greyscale), deflate, adaptive filtering, no interlace.
    header.extend_from_slice(&[8, 0, 0, 0, 0]);
    chunk(&mut png, b"IHDR", &header);
    chunk(&mut png, b"IDAT", &data);
    chunk(&mut png, b"IEND", &[]);
    Ok(png)
}

fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    let mut crc = Crc::new();
    crc.update(kind);
    crc.update(data);
    out.extend_from_slice(&crc.sum().to_be_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_png_has_the_signature_header_and_size_of_its_code() {
        let text = "openid-credential-offer://?credential_offer_uri=https%3A%2F%2Fcertus.test%2Fo";
        let png = png(text).expect("png");
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
        assert_eq!(&png[12..16], b"IHDR");
        let width = u32::from_be_bytes(png[16..20].try_into().expect("4 bytes")) as usize;
        assert_eq!(
            width,
            (code(text).expect("code").width() + 2 * QUIET) * SCALE
        );
        assert!(png.ends_with(&[0, 0, 0, 0, b'I', b'E', b'N', b'D', 0xAE, 0x42, 0x60, 0x82]));
    }

    #[test]
    fn an_svg_is_a_document_with_dark_modules() {
        let svg = svg("openid4vp://?request_uri=x").expect("svg");
        assert!(svg.starts_with("<?xml") && svg.contains("<svg") && svg.contains("#000"));
    }
}
