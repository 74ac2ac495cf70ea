//! Legs: which traffic of a capture is the terminal leg (terminals <-> acquirer) and which the
//! network leg (acquirer <-> UnionPay), each with its own dialect and framing.
//!
//! Real acquiring traffic speaks two dialects at once: the terminal leg the UnionPay POS
//! dialect ([`crate::spec::CUP_POS`], framing `len2` or `tpdu`), the network leg the CUPS
//! dialect ([`crate::spec::CUPS`], framing `cups`). A [`LegConfig`] names a leg's server ports,
//! spec and framing; [`crate::capture::CaptureReader::with_legs`] frames each flow by its leg,
//! and [`crate::audit::Audit::configure_legs`] parses, pairs and correlates by leg. [`Legs`]
//! resolves the command-line form (`--spec SPEC` or `--spec NAME=SPEC`, `--framing F` or
//! `--framing NAME=F`, `--leg NAME=PORT[,PORT...]`) so that programs need not.
//!
//! ```
//! use iso8583_inspect::leg::{Leg, Legs};
//! let legs = Legs::from_args(
//!     &["terminal=cup-pos".into(), "network=cups".into()],
//!     &["terminal=len2".into(), "network=cups".into()],
//!     &["terminal=8583".into(), "network=9000,9001".into()],
//! )?;
//! let configs = legs.configs();
//! assert_eq!(configs[1].leg, Leg::Network);
//! assert_eq!(configs[1].ports, [9000, 9001]);
//! assert_eq!(configs[1].spec.name, "cups");
//! # Ok::<(), String>(())
//! ```

use crate::frame::Framing;
use crate::spec::Spec;
use std::fmt;
use std::str::FromStr;

/// Which leg a message travels.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Leg {
    /// Terminal <-> acquirer.
    Terminal,
    /// Acquirer <-> network (UnionPay).
    Network,
}

impl Leg {
    /// Both legs.
    pub const ALL: [Leg; 2] = [Leg::Terminal, Leg::Network];

    /// `terminal` or `network`: the name on command lines and in findings.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Leg::Terminal => "terminal",
            Leg::Network => "network",
        }
    }

    /// The other leg.
    #[must_use]
    pub const fn other(self) -> Leg {
        match self {
            Leg::Terminal => Leg::Network,
            Leg::Network => Leg::Terminal,
        }
    }
}

impl fmt::Display for Leg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Leg {
    type Err = String;

    fn from_str(s: &str) -> Result<Leg, String> {
        Leg::ALL
            .into_iter()
            .find(|l| l.name() == s)
            .ok_or_else(|| format!("unknown leg {s:?}: expected terminal or network"))
    }
}

/// One leg: the server ports its flows connect to, its dialect and its framing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LegConfig<'s> {
    /// Which leg.
    pub leg: Leg,
    /// Server ports (a flow belongs to the leg whose ports include its server's).
    pub ports: Vec<u16>,
    /// The leg's dialect.
    pub spec: &'s Spec,
    /// The leg's framing, `None` to detect it per flow.
    pub framing: Option<Framing>,
}

/// The leg a flow to `server_port` belongs to, among `legs`.
#[must_use]
pub fn leg_of<'l, 's>(legs: &'l [LegConfig<'s>], server_port: u16) -> Option<&'l LegConfig<'s>> {
    legs.iter().find(|l| l.ports.contains(&server_port))
}

/// One leg as the command line gives it: ports, and its own spec and framing if any.
#[derive(Debug)]
struct LegArg {
    leg: Leg,
    ports: Vec<u16>,
    spec: Option<Spec>,
    framing: Option<Option<Framing>>,
}

/// Specs, framings and ports as a command line gives them, resolved and loaded.
#[derive(Debug)]
pub struct Legs {
    default_spec: Spec,
    default_framing: Option<Framing>,
    legs: Vec<LegArg>,
}

/// Splits `NAME=VALUE` where NAME is a leg; anything else is a value for every leg.
fn per_leg(arg: &str) -> Result<(Option<Leg>, &str), String> {
    match arg.split_once('=') {
        Some((name, value)) if Leg::ALL.iter().any(|l| l.name() == name) => {
            Ok((Some(name.parse()?), value))
        }
        Some((name, _)) if !name.contains(['/', '.']) => Err(format!(
            "{arg}: unknown leg {name:?}: expected terminal or network"
        )),
        _ => Ok((None, arg)),
    }
}

impl Legs {
    /// Resolves `--spec` values (`SPEC` for every leg, `NAME=SPEC` for one; a built-in name or
    /// a file), `--framing` values (`F` or `NAME=F`, `auto` to detect) and `--leg` values
    /// (`NAME=PORT[,PORT...]`). Without a spec for every leg, `iso87-ascii`; without a framing,
    /// `auto`. A spec or framing for a leg that no `--leg` places is an error (its traffic
    /// could not be told apart), as is a leg named twice.
    pub fn from_args(
        specs: &[String],
        framings: &[String],
        legs: &[String],
    ) -> Result<Legs, String> {
        let mut out = Legs {
            default_spec: crate::spec::ISO87_ASCII.clone(),
            default_framing: None,
            legs: Vec::new(),
        };
        for l in legs {
            let (name, ports) = l
                .split_once('=')
                .ok_or_else(|| format!("--leg {l}: expected NAME=PORT[,PORT...]"))?;
            let leg: Leg = name.parse().map_err(|e| format!("--leg {l}: {e}"))?;
            let ports = ports
                .split(',')
                .map(|p| p.trim().parse::<u16>())
                .collect::<Result<Vec<u16>, _>>()
                .map_err(|_| {
                    format!("--leg {l}: expected ports as numbers, e.g. {name}=8583,8584")
                })?;
            if out.legs.iter().any(|x| x.leg == leg) {
                return Err(format!("--leg {l}: the {leg} leg is named twice"));
            }
            out.legs.push(LegArg {
                leg,
                ports,
                spec: None,
                framing: None,
            });
        }
        for s in specs {
            let (leg, value) = per_leg(s).map_err(|e| format!("--spec {e}"))?;
            let spec = Spec::named(value).map_err(|e| format!("--spec {s}: {e}"))?;
            match leg {
                None => out.default_spec = spec,
                Some(leg) => out.slot(leg, "--spec", s)?.spec = Some(spec),
            }
        }
        for f in framings {
            let (leg, value) = per_leg(f).map_err(|e| format!("--framing {e}"))?;
            let framing = Framing::from_arg(value).map_err(|e| format!("--framing {f}: {e}"))?;
            match leg {
                None => out.default_framing = framing,
                Some(leg) => out.slot(leg, "--framing", f)?.framing = Some(framing),
            }
        }
        Ok(out)
    }

    fn slot(&mut self, leg: Leg, flag: &str, arg: &str) -> Result<&mut LegArg, String> {
        self.legs.iter_mut().find(|l| l.leg == leg).ok_or_else(|| {
            format!("{flag} {arg}: no --leg {leg}=PORT says which traffic is the {leg} leg")
        })
    }

    /// The spec of traffic on no leg (and of hex dumps).
    #[must_use]
    pub fn default_spec(&self) -> &Spec {
        &self.default_spec
    }

    /// The framing of traffic on no leg (`None`: detect).
    #[must_use]
    pub fn default_framing(&self) -> Option<Framing> {
        self.default_framing
    }

    /// Each leg with its ports, spec and framing (the defaults where it has none of its own).
    #[must_use]
    pub fn configs(&self) -> Vec<LegConfig<'_>> {
        self.legs
            .iter()
            .map(|l| LegConfig {
                leg: l.leg,
                ports: l.ports.clone(),
                spec: l.spec.as_ref().unwrap_or(&self.default_spec),
                framing: l.framing.unwrap_or(self.default_framing),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| (*s).to_string()).collect()
    }

    #[test]
    fn one_value_serves_every_leg_and_a_named_one_its_leg() {
        let legs = Legs::from_args(
            &strings(&["cup-pos", "network=cups"]),
            &strings(&["len2"]),
            &strings(&["terminal=8583", "network=9000,9001"]),
        )
        .unwrap();
        let c = legs.configs();
        assert_eq!(
            (c[0].leg, c[0].spec.name.as_ref()),
            (Leg::Terminal, "cup-pos")
        );
        assert_eq!(
            (c[1].spec.name.as_ref(), c[1].framing),
            ("cups", Some(Framing::Len2))
        );
        assert_eq!(leg_of(&c, 9001).map(|l| l.leg), Some(Leg::Network));
        assert_eq!(leg_of(&c, 1), None);
    }

    #[test]
    fn mistakes_are_named() {
        let err = |s: &[&str], f: &[&str], l: &[&str]| {
            Legs::from_args(&strings(s), &strings(f), &strings(l)).unwrap_err()
        };
        assert!(err(&["network=cups"], &[], &[]).contains("no --leg network=PORT"));
        assert!(err(&["backend=cups"], &[], &[]).contains("unknown leg \"backend\""));
        assert!(err(&[], &["network=len9"], &["network=1"]).contains("unknown framing"));
        assert!(err(&[], &[], &["network=x"]).contains("ports as numbers"));
        assert!(err(&[], &[], &["network=1", "network=2"]).contains("named twice"));
        assert!(err(&["nope"], &[], &[]).contains("unknown spec"));
    }
}
