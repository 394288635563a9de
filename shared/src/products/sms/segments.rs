//! SMS length and segment counting, following Twilio's rules.
//!
//! A message goes out as GSM-7 when every character is in the GSM 03.38 default alphabet or its extension
//! table; a single other character switches the whole message to UCS-2 (UTF-16). A text that does not fit
//! one message is split into parts, each of which loses room to the concatenation header (UDH).
//!
//! | encoding | single message | per part when split |
//! |----------|----------------|---------------------|
//! | GSM-7    | 160 septets    | 153 septets         |
//! | UCS-2    | 70 UTF-16 units| 67 UTF-16 units     |
//!
//! A character is never split across parts: a GSM-7 extension character (escape + code, 2 septets) or a
//! UTF-16 surrogate pair (astral characters such as emoji) that would straddle a boundary moves whole to the
//! next part, leaving one unit of the previous part unused.
//!
//! Grapheme clusters (flag sequences, ZWJ emoji, a base letter plus combining marks) may be split between
//! parts at code-point boundaries. Twilio's calculator keeps clusters whole, so in rare cases where a cluster
//! straddles a part boundary its count can be one higher than ours. We accept that rather than pull in a
//! Unicode segmentation table.

/// How the message is encoded on the air.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// GSM 03.38 default alphabet, 7 bits a character (extension characters take two).
    Gsm7,
    /// UCS-2, sent as UTF-16: 16 bits a unit, astral characters take two.
    Ucs2,
}

/// Length and cost of a text sent as SMS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SegmentInfo {
    pub encoding: Encoding,
    /// Characters (Unicode scalar values) in the text.
    pub length: usize,
    /// Message parts the text is sent as (0 for an empty text).
    pub segments: usize,
    /// Code units used: GSM-7 septets (extension chars count 2) or UCS-2/UTF-16 units.
    pub units: usize,
}

/// Septets in a single, unsplit GSM-7 message.
const GSM7_SINGLE: usize = 160;
/// Septets in each part of a split GSM-7 message (the UDH takes the rest).
const GSM7_PART: usize = 153;
/// UTF-16 units in a single, unsplit UCS-2 message.
const UCS2_SINGLE: usize = 70;
/// UTF-16 units in each part of a split UCS-2 message.
const UCS2_PART: usize = 67;

/// Counts the characters, code units and message parts of `text`.
pub fn count(text: &str) -> SegmentInfo {
    let encoding = if text.chars().all(is_gsm7) { Encoding::Gsm7 } else { Encoding::Ucs2 };
    let (single, part) = match encoding {
        Encoding::Gsm7 => (GSM7_SINGLE, GSM7_PART),
        Encoding::Ucs2 => (UCS2_SINGLE, UCS2_PART),
    };
    let cost = |c: char| match encoding {
        Encoding::Gsm7 => gsm7_septets(c),
        Encoding::Ucs2 => c.len_utf16(),
    };

    let length = text.chars().count();
    let units: usize = text.chars().map(cost).sum();
    let segments = if units == 0 {
        0
    } else if units <= single {
        1
    } else {
        // Greedy packing: a character that does not fit in what is left of the part starts the next one.
        let (mut parts, mut used) = (1, 0);
        for c in text.chars() {
            let n = cost(c);
            if used + n > part {
                parts += 1;
                used = 0;
            }
            used += n;
        }
        parts
    };
    SegmentInfo { encoding, length, segments, units }
}

/// Septets a GSM-7 character takes: 2 for an extension character (escape + code), else 1.
fn gsm7_septets(c: char) -> usize {
    1 + usize::from(is_gsm7_extension(c))
}

/// Whether `c` can be sent in GSM-7: it is in the GSM 03.38 basic set or its extension table.
pub fn is_gsm7(c: char) -> bool {
    is_gsm7_basic(c) || is_gsm7_extension(c)
}

/// Whether `c` is in the GSM 03.38 extension table (sent as escape 0x1B plus a code, so 2 septets).
///
/// These are `^ { } \ [ ~ ] | €` and form feed; the table's other codes are unassigned in the default
/// table (national-language shift tables are not used). The escape code 0x1B itself is not a character.
pub fn is_gsm7_extension(c: char) -> bool {
    matches!(c, '\u{0C}' | '^' | '{' | '}' | '\\' | '[' | '~' | ']' | '|' | '€')
}

/// Whether `c` is one of the 127 usable characters of the GSM 03.38 default alphabet (128 positions, less
/// the escape at 0x1B).
fn is_gsm7_basic(c: char) -> bool {
    match c {
        // Printable ASCII, less the extension characters and the backtick, which GSM-7 lacks.
        ' '..='~' => !matches!(c, '`' | '^' | '{' | '}' | '\\' | '[' | '~' | ']' | '|'),
        '\n' | '\r' => true,
        // Latin-1 letters and signs.
        '£' | '¥' | 'è' | 'é' | 'ù' | 'ì' | 'ò' | 'Ç' | 'Ø' | 'ø' | 'Å' | 'å' => true,
        'Æ' | 'æ' | 'ß' | 'É' | '¤' => true,
        '¡' | 'Ä' | 'Ö' | 'Ñ' | 'Ü' | '§' | '¿' | 'ä' | 'ö' | 'ñ' | 'ü' | 'à' => true,
        // Greek capitals (the real Greek code points, not look-alikes such as the Ohm sign).
        'Δ' | 'Φ' | 'Γ' | 'Λ' | 'Ω' | 'Π' | 'Ψ' | 'Σ' | 'Θ' | 'Ξ' => true,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    /// The GSM 03.38 default alphabet in code order, 0x00..=0x7F; 0x1B (escape) is not a character.
    const GSM7_TABLE: [char; 128] = [
        '@', '£', '$', '¥', 'è', 'é', 'ù', 'ì', 'ò', 'Ç', '\n', 'Ø', 'ø', '\r', 'Å', 'å', //
        'Δ', '_', 'Φ', 'Γ', 'Λ', 'Ω', 'Π', 'Ψ', 'Σ', 'Θ', 'Ξ', '\u{1B}', 'Æ', 'æ', 'ß', 'É', //
        ' ', '!', '"', '#', '¤', '%', '&', '\'', '(', ')', '*', '+', ',', '-', '.', '/', //
        '0', '1', '2', '3', '4', '5', '6', '7', '8', '9', ':', ';', '<', '=', '>', '?', //
        '¡', 'A', 'B', 'C', 'D', 'E', 'F', 'G', 'H', 'I', 'J', 'K', 'L', 'M', 'N', 'O', //
        'P', 'Q', 'R', 'S', 'T', 'U', 'V', 'W', 'X', 'Y', 'Z', 'Ä', 'Ö', 'Ñ', 'Ü', '§', //
        '¿', 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l', 'm', 'n', 'o', //
        'p', 'q', 'r', 's', 't', 'u', 'v', 'w', 'x', 'y', 'z', 'ä', 'ö', 'ñ', 'ü', 'à', //
    ];

    /// The extension table: form feed, ^ { } \ [ ~ ] | €.
    const GSM7_EXTENSION: [char; 10] = ['\u{0C}', '^', '{', '}', '\\', '[', '~', ']', '|', '€'];

    /// The two tables as sets, built from the spec arrays above rather than from the code under test.
    struct Spec {
        basic: HashSet<char>,
        ext: HashSet<char>,
    }

    fn spec() -> Spec {
        Spec {
            basic: GSM7_TABLE.iter().copied().filter(|&c| c != '\u{1B}').collect(),
            ext: GSM7_EXTENSION.iter().copied().collect(),
        }
    }

    fn rep(s: &str, n: usize) -> String {
        s.repeat(n)
    }

    fn info(encoding: Encoding, length: usize, segments: usize, units: usize) -> SegmentInfo {
        SegmentInfo { encoding, length, segments, units }
    }

    #[test]
    fn known_counts() {
        use Encoding::{Gsm7, Ucs2};
        let hindi = "फोनन में आपका स्वागत है $flow.key.sms. Phonon";
        let cases: Vec<(String, SegmentInfo)> = vec![
            (String::new(), info(Gsm7, 0, 0, 0)),
            ("a".into(), info(Gsm7, 1, 1, 1)),
            ("Hello, world!".into(), info(Gsm7, 13, 1, 13)),
            (rep("a", 160), info(Gsm7, 160, 1, 160)),
            (rep("a", 161), info(Gsm7, 161, 2, 161)),
            (rep("a", 153 * 2), info(Gsm7, 306, 2, 306)),
            (rep("a", 153 * 2 + 1), info(Gsm7, 307, 3, 307)),
            (rep("a", 153 * 3), info(Gsm7, 459, 3, 459)),
            (rep("a", 153 * 3 + 1), info(Gsm7, 460, 4, 460)),
            // 161 septets: part 1 holds 153 'a', part 2 holds 6 'a' + '€'.
            (rep("a", 159) + "€", info(Gsm7, 160, 2, 161)),
            // 154 septets fit one unsplit message of 160.
            (rep("a", 152) + "€", info(Gsm7, 153, 1, 154)),
            // 160 septets exactly: still one message.
            (rep("a", 158) + "€", info(Gsm7, 159, 1, 160)),
            // The escape pair moves: part 1 = 152 'a' (1 septet unused), part 2 = '€' + 151 'a', part 3 = 1 'a'.
            // Naively 306 septets would be 2 parts.
            (rep("a", 152) + "€" + &rep("a", 152), info(Gsm7, 305, 3, 306)),
            // Same total with the pair not straddling: 2 parts.
            (rep("a", 151) + "€" + &rep("a", 153), info(Gsm7, 305, 2, 306)),
            (rep("{", 80), info(Gsm7, 80, 1, 160)),
            // 162 septets: 76 '{' (152) per part, so 76 + 5.
            (rep("{", 81), info(Gsm7, 81, 2, 162)),
            // 153 '{' = 306 septets, 76 per part: 76 + 76 + 1.
            (rep("{", 153), info(Gsm7, 153, 3, 306)),
            ("\u{0C}".into(), info(Gsm7, 1, 1, 2)),
            ("\n".into(), info(Gsm7, 1, 1, 1)),
            ("\r\n".into(), info(Gsm7, 2, 1, 2)),
            ("èéùìò".into(), info(Gsm7, 5, 1, 5)),
            ("Ç".into(), info(Gsm7, 1, 1, 1)),
            ("ç".into(), info(Ucs2, 1, 1, 1)),
            ("`".into(), info(Ucs2, 1, 1, 1)),
            ("@£$¥ΔΦΓΛΩΠΨΣΘΞ¤¡¿§".into(), info(Gsm7, 18, 1, 18)),
            (rep("ł", 70), info(Ucs2, 70, 1, 70)),
            (rep("ł", 71), info(Ucs2, 71, 2, 71)),
            (rep("ł", 134), info(Ucs2, 134, 2, 134)),
            (rep("ł", 135), info(Ucs2, 135, 3, 135)),
            // One non-GSM character switches a GSM text to UCS-2.
            (rep("a", 69) + "ł", info(Ucs2, 70, 1, 70)),
            (rep("a", 70) + "ł", info(Ucs2, 71, 2, 71)),
            // An extension character costs one UTF-16 unit in UCS-2.
            (rep("€", 69) + "ł", info(Ucs2, 70, 1, 70)),
            (rep("€", 70), info(Gsm7, 70, 1, 140)),
            (rep("😀", 35), info(Ucs2, 35, 1, 70)),
            // 72 units: 33 emoji (66 units, 1 unused) per part, so 33 + 3.
            (rep("😀", 36), info(Ucs2, 36, 2, 72)),
            // 68 units fit one unsplit message of 70.
            (rep("ł", 66) + "😀", info(Ucs2, 67, 1, 68)),
            // The pair moves: part 1 = 66 'ł' (1 unit unused), part 2 = emoji + 65 'ł', part 3 = 1 'ł'.
            // Naively 134 units would be 2 parts.
            (rep("ł", 66) + "😀" + &rep("ł", 66), info(Ucs2, 133, 3, 134)),
            (rep("😀", 33) + "ł" + "😀", info(Ucs2, 35, 1, 69)),
            // 71 units: part 1 = 33 emoji + 'ł' (67 exactly), part 2 = 2 emoji.
            (rep("😀", 33) + "ł" + &rep("😀", 2), info(Ucs2, 36, 2, 71)),
            // 135 units: part 1 = 33 emoji + 'ł' (67), part 2 = 33 emoji (66, 1 unused), part 3 = 1 emoji.
            (rep("😀", 33) + "ł" + &rep("😀", 34), info(Ucs2, 68, 3, 135)),
            ("🇮🇳".into(), info(Ucs2, 2, 1, 4)),
            // A ZWJ family: 4 emoji (2 units each) + 3 ZWJ (1 unit each).
            ("👨\u{200D}👩\u{200D}👧\u{200D}👦".into(), info(Ucs2, 7, 1, 11)),
            // 45 characters, all in the BMP: 45 units, one UCS-2 message.
            (hindi.into(), info(Ucs2, 45, 1, 45)),
        ];
        assert!(cases.len() >= 30);
        for (text, want) in &cases {
            assert_eq!(count(text), *want, "text {text:?}");
        }

        // Independent check of the Hindi text: 19 Devanagari letters and signs, 26 ASCII, no astral.
        let devanagari = hindi.chars().filter(|c| ('\u{0900}'..='\u{097F}').contains(c)).count();
        let ascii = hindi.chars().filter(char::is_ascii).count();
        assert_eq!((devanagari, ascii), (19, 26));
        assert_eq!(hindi.encode_utf16().count(), devanagari + ascii);
    }

    #[test]
    fn classification_matches_the_0338_tables() {
        let Spec { basic, ext: extension } = spec();
        assert_eq!((basic.len(), extension.len()), (127, 10));
        let mut n_basic = 0;
        let mut n_ext = 0;
        for cp in 0..=0x10FFFFu32 {
            let Some(c) = char::from_u32(cp) else { continue };
            let ext = is_gsm7_extension(c);
            assert_eq!(ext, extension.contains(&c), "extension {cp:#X}");
            assert_eq!(is_gsm7_basic(c), basic.contains(&c), "basic {cp:#X}");
            assert!(!(ext && is_gsm7_basic(c)), "both tables {cp:#X}");
            assert_eq!(is_gsm7(c), ext || basic.contains(&c), "gsm7 {cp:#X}");
            if ext {
                assert!(is_gsm7(c));
                n_ext += 1;
            } else if is_gsm7(c) {
                n_basic += 1;
            }
        }
        // 128 positions less the escape; 10 extension characters.
        assert_eq!((n_basic, n_ext), (127, 10));
        assert!(!is_gsm7('\u{1B}'));
    }

    /// Small deterministic PRNG (xorshift64*), so the test needs no extra crate.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
        }
        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }
    }

    /// Splits `text` into parts by filling each one until the next character would overflow it, then
    /// measuring each part separately; written without using `count`'s internals.
    fn simulate(text: &str, spec: &Spec) -> usize {
        let gsm = text.chars().all(|c| spec.basic.contains(&c) || spec.ext.contains(&c));
        let size = |s: &str| -> usize {
            if gsm {
                s.chars().map(|c| if GSM7_EXTENSION.contains(&c) { 2 } else { 1 }).sum()
            } else {
                s.encode_utf16().count()
            }
        };
        let (single, cap) = if gsm { (160, 153) } else { (70, 67) };
        if text.is_empty() {
            return 0;
        }
        if size(text) <= single {
            return 1;
        }
        let mut parts: Vec<String> = vec![String::new()];
        for c in text.chars() {
            let mut candidate = parts.last().unwrap().clone();
            candidate.push(c);
            if size(&candidate) > cap {
                parts.push(c.to_string());
            } else {
                *parts.last_mut().unwrap() = candidate;
            }
        }
        assert!(parts.iter().all(|p| size(p) <= cap && !p.is_empty()));
        assert_eq!(parts.concat(), text);
        parts.len()
    }

    #[test]
    fn random_texts_match_a_greedy_simulation() {
        // Mostly GSM-7, with extension characters, and rarely a BMP or astral character that forces UCS-2.
        let gsm: Vec<char> = "abcXYZ 019.,!?@£Δé\n".chars().collect();
        let ext: Vec<char> = "€{}[]~|^\\\u{0C}".chars().collect();
        let other: Vec<char> = "łçआ中😀🇮\u{200D}".chars().collect();
        let spec = spec();
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        for round in 0..1500 {
            let len = rng.below(400);
            let ucs2_odds = if round % 2 == 0 { 0 } else { 1 + rng.below(40) };
            let mut text = String::new();
            for _ in 0..len {
                let roll = rng.below(100);
                let c = if roll < ucs2_odds {
                    other[rng.below(other.len())]
                } else if roll < ucs2_odds + 25 {
                    ext[rng.below(ext.len())]
                } else {
                    gsm[rng.below(gsm.len())]
                };
                text.push(c);
            }
            let got = count(&text);
            assert_eq!(got.segments, simulate(&text, &spec), "round {round}, text {text:?}");
            assert_eq!(got.length, text.chars().count());
            let want_units = match got.encoding {
                Encoding::Gsm7 => text.chars().count() + text.chars().filter(|c| ext.contains(c)).count(),
                Encoding::Ucs2 => text.encode_utf16().count(),
            };
            assert_eq!(got.units, want_units);
        }
    }
}
