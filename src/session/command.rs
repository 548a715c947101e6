//! Typed commands for a terminal loop (the CLI's `demo` and `verify`): one
//! line in, one [`Input`] out, and a help line built from what the current
//! [`View`] allows. The start form is not a command: the CLI builds it from
//! its flags and sends [`Input::Start`] itself.

use super::machine::{Input, InputKind};
use super::types::{DocumentType, Side};
use super::view::View;
use super::Error;

fn bad(reason: impl Into<String>) -> Error {
    Error::InvalidInput {
        field: "command",
        reason: reason.into(),
    }
}

fn document(word: &str) -> Option<DocumentType> {
    match word.to_ascii_lowercase().as_str() {
        "id" | "card" => Some(DocumentType::IdCard),
        "dl" | "licence" | "license" => Some(DocumentType::DriverLicense),
        "rp" | "permit" => Some(DocumentType::ResidencePermit),
        other => DocumentType::parse(other),
    }
}

fn side(word: &str) -> Option<Side> {
    match word.to_ascii_lowercase().as_str() {
        "front" | "f" => Some(Side::Front),
        "back" | "b" => Some(Side::Back),
        "face" | "selfie" => Some(Side::Face),
        _ => None,
    }
}

/// Parses one line typed at the terminal.
///
/// # Errors
/// [`Error::InvalidInput`] (field `command`) naming the word that is not
/// understood or missing.
pub fn parse(line: &str) -> Result<Input, Error> {
    let mut words = line.split_whitespace();
    let Some(verb) = words.next() else {
        return Err(bad("empty command; type `help`"));
    };
    let arg = words.next();
    if let Some(extra) = words.next() {
        return Err(bad(format!("unexpected `{extra}`")));
    }
    let no_arg = |input: Input| match arg {
        None => Ok(input),
        Some(a) => Err(bad(format!("`{verb}` takes no argument (got `{a}`)"))),
    };
    match verb.to_ascii_lowercase().as_str() {
        "here" | "verify" => {
            let a = arg.ok_or_else(|| bad("which document? id, passport, dl or rp"))?;
            document(a)
                .map(Input::VerifyHere)
                .ok_or_else(|| bad(format!("unknown document `{a}`; id, passport, dl or rp")))
        }
        "retake" => {
            let a = arg.ok_or_else(|| bad("which side? front, back or face"))?;
            side(a)
                .map(Input::Retake)
                .ok_or_else(|| bad(format!("unknown side `{a}`; front, back or face")))
        }
        "phone" | "mobile" => no_arg(Input::ContinueOnPhone),
        "capture" | "c" | "shoot" => no_arg(Input::Capture),
        "confirm" | "send" => no_arg(Input::Confirm),
        "retry" => no_arg(Input::Retry),
        "check" | "status" => no_arg(Input::CheckStatus),
        "cancel" | "quit" | "q" => no_arg(Input::Cancel),
        "finish" | "done" | "next" => no_arg(Input::Finish),
        "touch" => no_arg(Input::Touch),
        other => Err(bad(format!("unknown command `{other}`; type `help`"))),
    }
}

/// The commands the current view allows, for a prompt.
#[must_use]
pub fn help(view: &View) -> String {
    let docs = if view.documents.is_empty() {
        "id|passport|dl|rp".to_owned()
    } else {
        view.documents
            .iter()
            .map(|d| match d {
                DocumentType::IdCard => "id",
                DocumentType::Passport => "passport",
                DocumentType::DriverLicense => "dl",
                DocumentType::ResidencePermit => "rp",
            })
            .collect::<Vec<_>>()
            .join("|")
    };
    let sides = view
        .sides
        .iter()
        .map(|s| s.side.as_str().to_ascii_lowercase())
        .collect::<Vec<_>>()
        .join("|");
    view.allowed
        .iter()
        .filter_map(|k| match k {
            InputKind::Start | InputKind::Touch => None,
            InputKind::VerifyHere => Some(format!("here <{docs}>")),
            InputKind::ContinueOnPhone => Some("phone".to_owned()),
            InputKind::Capture => Some("capture".to_owned()),
            InputKind::Retake => Some(format!("retake <{sides}>")),
            InputKind::Confirm => Some("send".to_owned()),
            InputKind::Retry => Some("retry".to_owned()),
            InputKind::CheckStatus => Some("check".to_owned()),
            InputKind::Cancel => Some("cancel".to_owned()),
            InputKind::Finish => Some("finish".to_owned()),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::machine::{Machine, Settings, State};
    use crate::ErrorCode;

    #[test]
    fn parses_every_command() {
        let table = [
            ("here passport", Input::VerifyHere(DocumentType::Passport)),
            ("verify ID_CARD", Input::VerifyHere(DocumentType::IdCard)),
            ("here dl", Input::VerifyHere(DocumentType::DriverLicense)),
            ("here rp", Input::VerifyHere(DocumentType::ResidencePermit)),
            ("phone", Input::ContinueOnPhone),
            ("  capture ", Input::Capture),
            ("retake back", Input::Retake(Side::Back)),
            ("retake SELFIE", Input::Retake(Side::Face)),
            ("send", Input::Confirm),
            ("retry", Input::Retry),
            ("check", Input::CheckStatus),
            ("q", Input::Cancel),
            ("next", Input::Finish),
            ("touch", Input::Touch),
        ];
        for (line, input) in table {
            assert_eq!(parse(line).unwrap(), input, "{line}");
        }
    }

    #[test]
    fn bad_lines_are_clear_errors() {
        for (line, needle) in [
            ("", "empty"),
            ("fly", "unknown command `fly`"),
            ("here", "which document"),
            ("here visa", "unknown document `visa`"),
            ("retake", "which side"),
            ("retake top", "unknown side `top`"),
            ("capture now", "takes no argument"),
            ("here id card", "unexpected `card`"),
        ] {
            let e = parse(line).unwrap_err();
            assert_eq!(e.code(), ErrorCode::InvalidInput, "{line}");
            assert!(e.to_string().contains(needle), "{line}: {e}");
        }
    }

    #[test]
    fn help_lists_only_what_the_view_allows() {
        let m = Machine::new(Settings::default(), 0);
        assert_eq!(help(&View::of(&m, 0)), "");
        let m = Machine::with_state(
            Settings::default(),
            State::Result {
                scan_ref: "s".into(),
                outcome: crate::session::Outcome::new(
                    crate::session::OverallStatus::Approved,
                    true,
                ),
            },
            0,
        );
        assert_eq!(help(&View::of(&m, 0)), "cancel, finish");
    }
}
