//! Decoding of Binance spot public market-data messages, as they arrive on a WebSocket
//! (raw or combined streams) or from the REST depth endpoint.
//!
//! One entry point, [`decode`] (or [`decode_slice`] for bytes), turns one message into a
//! [`Message`]: the combined-stream name, when there is one, and a typed [`Payload`]:
//!
//! * `depthUpdate` diffs, `bookTicker`, `trade` and `kline` events,
//! * a depth snapshot (`{"lastUpdateId":…,"bids":…,"asks":…}`, the REST `/api/v3/depth`
//!   body, also the payload of the partial-depth streams `<symbol>@depth<N>`),
//! * replies to subscription requests (`{"result":null,"id":1}`, or `{"error":…,"id":…}`),
//! * anything else as [`Payload::Unknown`]: new event types are not errors.
//!
//! Unknown fields are ignored. Prices and quantities are parsed from their decimal strings into
//! [`Decimal`] without going through floating point. The decoder reads the JSON once, field by
//! field, without building a `serde_json::Value`.

use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

use papermemes_core::event::{Candle, Level, MarketEvent};
use papermemes_core::TimeMs;
use rust_decimal::Decimal;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use thiserror::Error;

/// Why a message could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DecodeError {
    /// Not JSON, truncated JSON, or not a JSON object.
    #[error("malformed JSON: {0}")]
    Malformed(String),
    /// Valid JSON, but a known field has the wrong type or an unparsable number.
    #[error("invalid message: {0}")]
    Invalid(String),
    /// A known message type without one of its required fields.
    #[error("{kind} message lacks the field '{field}'")]
    Missing {
        kind: &'static str,
        field: &'static str,
    },
}

impl DecodeError {
    pub fn code(&self) -> &'static str {
        match self {
            DecodeError::Malformed(_) => "binance.malformed",
            DecodeError::Invalid(_) => "binance.invalid",
            DecodeError::Missing { .. } => "binance.missing_field",
        }
    }

    fn from_json(e: serde_json::Error) -> Self {
        use serde_json::error::Category;
        match e.classify() {
            Category::Data => DecodeError::Invalid(e.to_string()),
            Category::Io | Category::Syntax | Category::Eof => {
                DecodeError::Malformed(e.to_string())
            }
        }
    }
}

/// One decoded message.
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    /// The stream name of a combined-stream envelope (`btcusdt@depth@100ms`); `None` for raw
    /// streams, REST bodies and subscription replies.
    pub stream: Option<String>,
    pub payload: Payload,
}

impl Message {
    /// The symbol the message is about: the payload's `s`, else the stream name's prefix
    /// (upper-cased), else `None` (a bare REST snapshot names no symbol).
    pub fn symbol(&self) -> Option<String> {
        self.payload
            .symbol()
            .map(str::to_string)
            .or_else(|| self.stream.as_deref().and_then(symbol_from_stream))
    }
}

/// `btcusdt@depth@100ms` → `BTCUSDT`.
pub fn symbol_from_stream(stream: &str) -> Option<String> {
    let (sym, _) = stream.split_once('@')?;
    (!sym.is_empty()).then(|| sym.to_ascii_uppercase())
}

#[derive(Debug, Clone, PartialEq)]
pub enum Payload {
    DepthUpdate(DepthUpdate),
    BookTicker(BookTicker),
    Trade(Trade),
    Kline(Kline),
    DepthSnapshot(DepthSnapshot),
    /// Reply to a SUBSCRIBE/UNSUBSCRIBE/LIST_SUBSCRIPTIONS… request.
    Reply(Reply),
    /// A well-formed message of a type this decoder does not know (`event_type` is its `e`).
    Unknown {
        event_type: Option<String>,
    },
}

impl Payload {
    pub fn symbol(&self) -> Option<&str> {
        match self {
            Payload::DepthUpdate(d) => Some(&d.symbol),
            Payload::BookTicker(t) => Some(&t.symbol),
            Payload::Trade(t) => Some(&t.symbol),
            Payload::Kline(k) => Some(&k.symbol),
            Payload::DepthSnapshot(_) | Payload::Reply(_) | Payload::Unknown { .. } => None,
        }
    }
}

/// `depthUpdate`: absolute quantities of changed levels, update ids `U..=u`.
#[derive(Debug, Clone, PartialEq)]
pub struct DepthUpdate {
    pub event_time_ms: TimeMs,
    pub symbol: String,
    /// `U`
    pub first_update_id: u64,
    /// `u`
    pub final_update_id: u64,
    pub bids: Vec<Level>,
    pub asks: Vec<Level>,
}

impl DepthUpdate {
    pub fn into_event(self) -> MarketEvent {
        MarketEvent::BookDelta {
            symbol: self.symbol,
            time_ms: self.event_time_ms,
            final_update_id: self.final_update_id,
            bids: self.bids,
            asks: self.asks,
        }
    }
}

/// `bookTicker`: best bid/ask; `update_id` (`u`) is the order-book update id it reflects.
#[derive(Debug, Clone, PartialEq)]
pub struct BookTicker {
    pub update_id: u64,
    pub symbol: String,
    pub bid: Decimal,
    pub bid_qty: Decimal,
    pub ask: Decimal,
    pub ask_qty: Decimal,
}

impl BookTicker {
    /// The ticker has no event time; `time_ms` is the receive time.
    pub fn into_event(self, time_ms: TimeMs) -> MarketEvent {
        MarketEvent::BookTicker {
            symbol: self.symbol,
            time_ms,
            bid: self.bid,
            bid_qty: self.bid_qty,
            ask: self.ask,
            ask_qty: self.ask_qty,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Trade {
    pub event_time_ms: TimeMs,
    pub symbol: String,
    pub trade_id: u64,
    pub price: Decimal,
    pub quantity: Decimal,
    pub trade_time_ms: TimeMs,
    pub buyer_is_maker: bool,
}

impl Trade {
    pub fn into_event(self) -> MarketEvent {
        MarketEvent::Trade {
            symbol: self.symbol,
            time_ms: self.trade_time_ms,
            price: self.price,
            quantity: self.quantity,
            buyer_is_maker: self.buyer_is_maker,
        }
    }
}

/// A `kline` update. `candle.interval_ms` is `T - t + 1` (Binance's close time is the last
/// millisecond of the bar).
#[derive(Debug, Clone, PartialEq)]
pub struct Kline {
    pub event_time_ms: TimeMs,
    pub symbol: String,
    /// `i`, e.g. `1m`.
    pub interval: String,
    pub candle: Candle,
    /// `x`: the bar is final.
    pub is_closed: bool,
}

impl Kline {
    /// Only closed bars are market events; an open bar's update gives `None`.
    pub fn into_event(self) -> Option<MarketEvent> {
        self.is_closed.then_some(MarketEvent::Candle {
            symbol: self.symbol,
            candle: self.candle,
        })
    }
}

/// A depth snapshot: the REST `/api/v3/depth` body.
#[derive(Debug, Clone, PartialEq)]
pub struct DepthSnapshot {
    pub last_update_id: u64,
    pub bids: Vec<Level>,
    pub asks: Vec<Level>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    /// The request id (Binance accepts numbers and strings); `None` when absent or null.
    pub id: Option<ReplyId>,
    /// An error reply: `(code, msg)`.
    pub error: Option<(i64, String)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReplyId {
    Number(i64),
    Text(String),
}

/// Decode one message (a WebSocket text frame, a REST body, or a capture line's JSON).
pub fn decode(text: &str) -> Result<Message, DecodeError> {
    decode_slice(text.as_bytes())
}

/// [`decode`] for bytes. Invalid UTF-8 is reported as malformed, never a panic.
pub fn decode_slice(bytes: &[u8]) -> Result<Message, DecodeError> {
    // One UTF-8 check of the whole message is cheaper than one per string value.
    let text = std::str::from_utf8(bytes).map_err(|e| {
        DecodeError::Malformed(format!("not UTF-8 text (bad byte at {})", e.valid_up_to()))
    })?;
    let mut de = serde_json::Deserializer::from_str(text);
    let mut top = Fields::new();
    let mut data = Fields::new();
    let mut has_data = false;
    ObjectInto {
        fields: &mut top,
        data: Some((&mut data, &mut has_data)),
    }
    .deserialize(&mut de)
    .map_err(DecodeError::from_json)?;
    de.end().map_err(DecodeError::from_json)?;
    if has_data {
        let stream = match top.take(Key::Stream) {
            Some(Val::Str(s)) => Some(s.into_owned()),
            _ => None,
        };
        return Ok(Message {
            stream,
            payload: data.into_payload()?,
        });
    }
    Ok(Message {
        stream: None,
        payload: top.into_payload()?,
    })
}

// ---------------------------------------------------------------------------------------------
// Wire decoding: one pass over the JSON. Every known key's value is kept in a slot (strings
// borrowed from the input, level lists parsed straight into decimals, everything else skipped);
// the payload type is decided once the object is read, so the key order does not matter, and a
// field whose type does not fit is an error only for the message type that needs it (the same
// letters mean other things in event types this decoder does not know).
// ---------------------------------------------------------------------------------------------

/// A field value as read.
enum Val<'de> {
    Null,
    Bool(bool),
    U64(u64),
    I64(i64),
    F64,
    Str(Cow<'de, str>),
    /// A list of `[price, quantity, …]` pairs, parsed.
    Levels(Vec<Level>),
    /// A list that is not a list of levels; why.
    OtherSeq(String),
    Obj(Box<Fields<'de>>),
}

impl Val<'_> {
    fn type_name(&self) -> &'static str {
        match self {
            Val::Null => "null",
            Val::Bool(_) => "a boolean",
            Val::U64(_) | Val::I64(_) | Val::F64 => "a number",
            Val::Str(_) => "a string",
            Val::Levels(_) | Val::OtherSeq(_) => "a list",
            Val::Obj(_) => "an object",
        }
    }
}

struct ValVisitor;

impl<'de> Visitor<'de> for ValVisitor {
    type Value = Val<'de>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_unit<E: de::Error>(self) -> Result<Val<'de>, E> {
        Ok(Val::Null)
    }
    fn visit_none<E: de::Error>(self) -> Result<Val<'de>, E> {
        Ok(Val::Null)
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Val<'de>, E> {
        Ok(Val::Bool(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Val<'de>, E> {
        Ok(Val::U64(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Val<'de>, E> {
        Ok(Val::I64(v))
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Val<'de>, E> {
        Ok(Val::F64)
    }
    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Val<'de>, E> {
        Ok(Val::Str(Cow::Borrowed(v)))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Val<'de>, E> {
        Ok(Val::Str(Cow::Owned(v.to_string())))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Val<'de>, A::Error> {
        let mut levels = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(8192));
        let mut problem = None;
        while let Some(l) = seq.next_element::<MaybeLevel>()? {
            match (l, &problem) {
                (MaybeLevel::Level(p, q), None) => levels.push((p, q)),
                (MaybeLevel::Not(why), None) => problem = Some(why),
                _ => {}
            }
        }
        Ok(match problem {
            None => Val::Levels(levels),
            Some(why) => Val::OtherSeq(why),
        })
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Val<'de>, A::Error> {
        let mut fields = Box::new(Fields::new());
        ObjectInto {
            fields: &mut fields,
            data: None,
        }
        .visit_map(map)?;
        Ok(Val::Obj(fields))
    }
}

/// One element of a list that may be a level list.
enum MaybeLevel {
    Level(Decimal, Decimal),
    Not(String),
}

impl<'de> Deserialize<'de> for MaybeLevel {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = MaybeLevel;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a [price, quantity] pair")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<MaybeLevel, A::Error> {
                let p = seq.next_element::<DecOrWhy>()?;
                let q = match p {
                    Some(_) => seq.next_element::<DecOrWhy>()?,
                    None => None,
                };
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(match (p, q) {
                    (Some(DecOrWhy(Ok(p))), Some(DecOrWhy(Ok(q)))) => MaybeLevel::Level(p, q),
                    (Some(DecOrWhy(Err(why))), _) | (_, Some(DecOrWhy(Err(why)))) => {
                        MaybeLevel::Not(why)
                    }
                    _ => MaybeLevel::Not("a level needs a price and a quantity".into()),
                })
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<MaybeLevel, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(MaybeLevel::Not(
                    "a level must be a [price, quantity] pair".into(),
                ))
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<MaybeLevel, E> {
                Ok(not_pair())
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<MaybeLevel, E> {
                Ok(not_pair())
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<MaybeLevel, E> {
                Ok(not_pair())
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<MaybeLevel, E> {
                Ok(not_pair())
            }
            fn visit_str<E: de::Error>(self, _: &str) -> Result<MaybeLevel, E> {
                Ok(not_pair())
            }
            fn visit_unit<E: de::Error>(self) -> Result<MaybeLevel, E> {
                Ok(not_pair())
            }
        }
        d.deserialize_any(V)
    }
}

fn not_pair() -> MaybeLevel {
    MaybeLevel::Not("a level must be a [price, quantity] pair".into())
}

/// A decimal string parsed in place, or why it is not one.
struct DecOrWhy(Result<Decimal, String>);

impl<'de> Deserialize<'de> for DecOrWhy {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = DecOrWhy;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a decimal string")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<DecOrWhy, E> {
                Ok(DecOrWhy(parse_dec(s)))
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<DecOrWhy, E> {
                Ok(not_dec())
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<DecOrWhy, E> {
                Ok(not_dec())
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<DecOrWhy, E> {
                Ok(not_dec())
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<DecOrWhy, E> {
                Ok(not_dec())
            }
            fn visit_unit<E: de::Error>(self) -> Result<DecOrWhy, E> {
                Ok(not_dec())
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<DecOrWhy, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(not_dec())
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<DecOrWhy, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(not_dec())
            }
        }
        d.deserialize_any(V)
    }
}

fn not_dec() -> DecOrWhy {
    DecOrWhy(Err("prices and quantities must be decimal strings".into()))
}

fn parse_dec(s: &str) -> Result<Decimal, String> {
    if let Some(d) = fast_dec(s.as_bytes()) {
        return Ok(d);
    }
    Decimal::from_str(s)
        .or_else(|_| Decimal::from_scientific(s))
        .map_err(|_| format!("'{}' is not a decimal number", short(s)))
}

/// The common case, `digits[.digits]` with at most 19 digits, without the general parser.
/// Gives exactly what `Decimal::from_str` gives (the scale keeps trailing zeros); anything
/// else (signs, exponents, more digits) returns `None` for the general parser.
fn fast_dec(b: &[u8]) -> Option<Decimal> {
    let (int, frac) = match b.iter().position(|&c| c == b'.') {
        Some(i) => (&b[..i], &b[i + 1..]),
        None => (b, &b[..0]),
    };
    let has_dot = int.len() != b.len();
    if int.is_empty() || (has_dot && frac.is_empty()) || int.len() + frac.len() > 19 {
        return None;
    }
    let mut m: u64 = 0;
    for &c in int.iter().chain(frac) {
        if !c.is_ascii_digit() {
            return None;
        }
        m = m * 10 + u64::from(c - b'0');
    }
    // At most 19 digits: m < 10^19 < 2^64, and the scale is at most 19 (< 28).
    let scale = u32::try_from(frac.len()).ok()?;
    Some(Decimal::from_parts(
        (m & 0xffff_ffff) as u32,
        (m >> 32) as u32,
        0,
        false,
        scale,
    ))
}

fn short(s: &str) -> String {
    if s.chars().count() > 40 {
        format!("{}…", s.chars().take(40).collect::<String>())
    } else {
        s.to_string()
    }
}

macro_rules! keys {
    ($($name:ident = $text:literal,)*) => {
        /// The field names this decoder reads; everything else is skipped unread.
        #[derive(Clone, Copy, PartialEq, Eq)]
        enum Key { $($name,)* Other }

        impl Key {
            const COUNT: usize = [$($text,)*].len();
            fn from_name(s: &str) -> Key {
                match s { $($text => Key::$name,)* _ => Key::Other }
            }
            fn name(self) -> &'static str {
                match self { $(Key::$name => $text,)* Key::Other => "?" }
            }
        }
    };
}

keys! {
    Stream = "stream",
    Data = "data",
    LowerE = "e",
    UpperE = "E",
    LowerS = "s",
    UpperU = "U",
    LowerU = "u",
    LowerB = "b",
    UpperB = "B",
    LowerA = "a",
    UpperA = "A",
    LowerT = "t",
    UpperT = "T",
    LowerP = "p",
    LowerQ = "q",
    LowerM = "m",
    LowerK = "k",
    LowerI = "i",
    LowerO = "o",
    LowerH = "h",
    LowerL = "l",
    LowerC = "c",
    LowerV = "v",
    LowerX = "x",
    LastUpdateId = "lastUpdateId",
    Bids = "bids",
    Asks = "asks",
    Result = "result",
    Id = "id",
    Error = "error",
    Code = "code",
    Msg = "msg",
}

impl<'de> Deserialize<'de> for Key {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Key;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a field name")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Key, E> {
                Ok(Key::from_name(s))
            }
        }
        d.deserialize_identifier(V)
    }
}

/// The known fields of one JSON object.
struct Fields<'de> {
    slots: [Option<Val<'de>>; Key::COUNT],
}

/// Reads one object into `fields` in place. With `data`, the value of the key `data` (the
/// payload of a combined-stream envelope), when it is an object, is read into that instead,
/// and the flag is set.
struct ObjectInto<'a, 'de> {
    fields: &'a mut Fields<'de>,
    data: Option<(&'a mut Fields<'de>, &'a mut bool)>,
}

impl<'de> DeserializeSeed<'de> for ObjectInto<'_, 'de> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for ObjectInto<'_, 'de> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object")
    }
    fn visit_map<A: MapAccess<'de>>(mut self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<Key>()? {
            match (key, &mut self.data) {
                (Key::Other, _) => {
                    map.next_value::<IgnoredAny>()?;
                }
                (Key::Data, Some((data, flag))) => {
                    **flag = map.next_value_seed(DataInto(data))?;
                }
                (key, _) => {
                    let v = map.next_value_seed(ValSeed)?;
                    self.fields.slots[key as usize] = Some(v);
                }
            }
        }
        Ok(())
    }
}

/// The envelope's `data`: read in place when it is an object (`true`), skipped otherwise.
struct DataInto<'a, 'de>(&'a mut Fields<'de>);

impl<'de> DeserializeSeed<'de> for DataInto<'_, 'de> {
    type Value = bool;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<bool, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for DataInto<'_, 'de> {
    type Value = bool;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<bool, A::Error> {
        ObjectInto {
            fields: self.0,
            data: None,
        }
        .visit_map(map)
        .map(|()| true)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<bool, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(false)
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_unit<E: de::Error>(self) -> Result<bool, E> {
        Ok(false)
    }
}

struct ValSeed;

impl<'de> DeserializeSeed<'de> for ValSeed {
    type Value = Val<'de>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Val<'de>, D::Error> {
        d.deserialize_any(ValVisitor)
    }
}

/// Typed access to the slots of one object, for one message kind.
struct Reader<'a, 'de> {
    f: &'a mut Fields<'de>,
    kind: &'static str,
}

impl<'de> Reader<'_, 'de> {
    fn take(&mut self, k: Key) -> Result<Val<'de>, DecodeError> {
        self.f.take(k).ok_or(DecodeError::Missing {
            kind: self.kind,
            field: k.name(),
        })
    }

    fn wrong(&self, k: Key, want: &str, got: &Val<'_>) -> DecodeError {
        DecodeError::Invalid(format!(
            "{} field '{}' must be {want}, not {}",
            self.kind,
            k.name(),
            got.type_name()
        ))
    }

    fn u64(&mut self, k: Key) -> Result<u64, DecodeError> {
        match self.take(k)? {
            Val::U64(v) => Ok(v),
            other => Err(self.wrong(k, "an unsigned integer", &other)),
        }
    }

    fn i64(&mut self, k: Key) -> Result<i64, DecodeError> {
        match self.take(k)? {
            Val::U64(v) => i64::try_from(v).map_err(|_| {
                DecodeError::Invalid(format!(
                    "{} field '{}' is out of range: {v}",
                    self.kind,
                    k.name()
                ))
            }),
            Val::I64(v) => Ok(v),
            other => Err(self.wrong(k, "an integer", &other)),
        }
    }

    fn bool(&mut self, k: Key) -> Result<bool, DecodeError> {
        match self.take(k)? {
            Val::Bool(v) => Ok(v),
            other => Err(self.wrong(k, "a boolean", &other)),
        }
    }

    fn string(&mut self, k: Key) -> Result<String, DecodeError> {
        match self.take(k)? {
            Val::Str(s) => Ok(s.into_owned()),
            other => Err(self.wrong(k, "a string", &other)),
        }
    }

    fn dec(&mut self, k: Key) -> Result<Decimal, DecodeError> {
        match self.take(k)? {
            Val::Str(s) => parse_dec(&s).map_err(|why| {
                DecodeError::Invalid(format!("{} field '{}': {why}", self.kind, k.name()))
            }),
            other => Err(self.wrong(k, "a decimal string", &other)),
        }
    }

    fn levels(&mut self, k: Key) -> Result<Vec<Level>, DecodeError> {
        match self.take(k)? {
            Val::Levels(l) => Ok(l),
            Val::OtherSeq(why) => Err(DecodeError::Invalid(format!(
                "{} field '{}': {why}",
                self.kind,
                k.name()
            ))),
            other => Err(self.wrong(k, "a list of [price, quantity] pairs", &other)),
        }
    }

    fn object(&mut self, k: Key) -> Result<Box<Fields<'de>>, DecodeError> {
        match self.take(k)? {
            Val::Obj(o) => Ok(o),
            other => Err(self.wrong(k, "an object", &other)),
        }
    }
}

impl<'de> Fields<'de> {
    fn new() -> Self {
        Fields {
            slots: std::array::from_fn(|_| None),
        }
    }

    fn take(&mut self, k: Key) -> Option<Val<'de>> {
        self.slots[k as usize].take()
    }

    fn has(&self, k: Key) -> bool {
        self.slots[k as usize].is_some()
    }

    fn is_str(&self, k: Key) -> bool {
        matches!(self.slots[k as usize], Some(Val::Str(_)))
    }

    fn reader(&mut self, kind: &'static str) -> Reader<'_, 'de> {
        Reader { f: self, kind }
    }

    fn into_payload(mut self) -> Result<Payload, DecodeError> {
        let event_type = match self.take(Key::LowerE) {
            None => None,
            Some(Val::Str(s)) => Some(s),
            Some(other) => {
                return Err(DecodeError::Invalid(format!(
                    "the event type 'e' must be a string, not {}",
                    other.type_name()
                )))
            }
        };
        match event_type.as_deref() {
            Some("depthUpdate") => {
                let mut r = self.reader("depthUpdate");
                Ok(Payload::DepthUpdate(DepthUpdate {
                    event_time_ms: r.i64(Key::UpperE)?,
                    symbol: r.string(Key::LowerS)?,
                    first_update_id: r.u64(Key::UpperU)?,
                    final_update_id: r.u64(Key::LowerU)?,
                    bids: r.levels(Key::LowerB)?,
                    asks: r.levels(Key::LowerA)?,
                }))
            }
            Some("trade") => {
                let mut r = self.reader("trade");
                Ok(Payload::Trade(Trade {
                    event_time_ms: r.i64(Key::UpperE)?,
                    symbol: r.string(Key::LowerS)?,
                    trade_id: r.u64(Key::LowerT)?,
                    price: r.dec(Key::LowerP)?,
                    quantity: r.dec(Key::LowerQ)?,
                    trade_time_ms: r.i64(Key::UpperT)?,
                    buyer_is_maker: r.bool(Key::LowerM)?,
                }))
            }
            Some("kline") => {
                let mut r = self.reader("kline");
                let event_time_ms = r.i64(Key::UpperE)?;
                let symbol = r.string(Key::LowerS)?;
                let mut k = r.object(Key::LowerK)?;
                let mut k = k.reader("kline");
                let open_time_ms = k.i64(Key::LowerT)?;
                let close_time_ms = k.i64(Key::UpperT)?;
                if close_time_ms < open_time_ms {
                    return Err(DecodeError::Invalid(format!(
                        "kline close time {close_time_ms} is before its open time {open_time_ms}"
                    )));
                }
                Ok(Payload::Kline(Kline {
                    event_time_ms,
                    symbol,
                    interval: k.string(Key::LowerI)?,
                    candle: Candle {
                        open_time_ms,
                        interval_ms: close_time_ms.saturating_sub(open_time_ms).saturating_add(1),
                        open: k.dec(Key::LowerO)?,
                        high: k.dec(Key::LowerH)?,
                        low: k.dec(Key::LowerL)?,
                        close: k.dec(Key::LowerC)?,
                        volume: k.dec(Key::LowerV)?,
                    },
                    is_closed: k.bool(Key::LowerX)?,
                }))
            }
            Some(other) => Ok(Payload::Unknown {
                event_type: Some(other.to_string()),
            }),
            None => self.untyped_payload(),
        }
    }

    /// Payloads without `e`: bookTicker, depth snapshots, replies.
    fn untyped_payload(mut self) -> Result<Payload, DecodeError> {
        if self.has(Key::LastUpdateId) {
            let mut r = self.reader("depth snapshot");
            return Ok(Payload::DepthSnapshot(DepthSnapshot {
                last_update_id: r.u64(Key::LastUpdateId)?,
                bids: r.levels(Key::Bids)?,
                asks: r.levels(Key::Asks)?,
            }));
        }
        if self.has(Key::LowerU) && self.is_str(Key::LowerB) && self.is_str(Key::LowerA) {
            let mut r = self.reader("bookTicker");
            return Ok(Payload::BookTicker(BookTicker {
                update_id: r.u64(Key::LowerU)?,
                symbol: r.string(Key::LowerS)?,
                bid: r.dec(Key::LowerB)?,
                bid_qty: r.dec(Key::UpperB)?,
                ask: r.dec(Key::LowerA)?,
                ask_qty: r.dec(Key::UpperA)?,
            }));
        }
        if self.has(Key::Result) || self.has(Key::Error) || self.has(Key::Id) {
            let id = match self.take(Key::Id) {
                Some(Val::U64(n)) => Some(
                    i64::try_from(n)
                        .map(ReplyId::Number)
                        .unwrap_or_else(|_| ReplyId::Text(n.to_string())),
                ),
                Some(Val::I64(n)) => Some(ReplyId::Number(n)),
                Some(Val::Str(s)) => Some(ReplyId::Text(s.into_owned())),
                _ => None,
            };
            let error = match self.take(Key::Error) {
                Some(Val::Obj(mut e)) => {
                    let code = match e.take(Key::Code) {
                        Some(Val::I64(c)) => c,
                        Some(Val::U64(c)) => i64::try_from(c).unwrap_or(i64::MAX),
                        _ => 0,
                    };
                    let msg = match e.take(Key::Msg) {
                        Some(Val::Str(m)) => m.into_owned(),
                        _ => String::new(),
                    };
                    Some((code, msg))
                }
                Some(Val::Null) | None => None,
                Some(other) => Some((0, format!("error given as {}", other.type_name()))),
            };
            return Ok(Payload::Reply(Reply { id, error }));
        }
        Ok(Payload::Unknown { event_type: None })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn depth_update_in_envelope() {
        let m = decode(r#"{"stream":"btcusdt@depth@100ms","data":{"e":"depthUpdate","E":1723161255208,"s":"BTCUSDT","U":50093239189,"u":50093239202,"b":[["61737.63000000","0.00000000"]],"a":[["61837.64000000","1.54698000"],["61839.85000000","0.00000000"]],"x":[1,2]}}"#).expect("decodes");
        assert_eq!(m.stream.as_deref(), Some("btcusdt@depth@100ms"));
        let Payload::DepthUpdate(d) = m.payload else {
            panic!("not a depth update: {m:?}")
        };
        assert_eq!(d.first_update_id, 50093239189);
        assert_eq!(d.final_update_id, 50093239202);
        assert_eq!(d.bids, vec![(dec!(61737.63), dec!(0))]);
        assert_eq!(d.asks.len(), 2);
        assert_eq!(d.asks[0], (dec!(61837.64), dec!(1.54698)));
    }

    #[test]
    fn book_ticker_trade_kline_snapshot_reply() {
        let m = decode(r#"{"stream":"btcusdt@bookTicker","data":{"u":5,"s":"BTCUSDT","b":"1.5","B":"2","a":"1.6","A":"3"}}"#).expect("ticker");
        assert_eq!(
            m.payload,
            Payload::BookTicker(BookTicker {
                update_id: 5,
                symbol: "BTCUSDT".into(),
                bid: dec!(1.5),
                bid_qty: dec!(2),
                ask: dec!(1.6),
                ask_qty: dec!(3)
            })
        );
        let m = decode(
            r#"{"e":"trade","E":1,"s":"X","t":7,"p":"0.001","q":"100","T":2,"m":true,"M":true}"#,
        )
        .expect("trade");
        let Payload::Trade(t) = m.payload else {
            panic!("trade")
        };
        assert!(t.buyer_is_maker && t.trade_id == 7 && t.price == dec!(0.001));
        let m = decode(r#"{"e":"kline","E":1,"s":"BNBBTC","k":{"t":1672515780000,"T":1672515839999,"s":"BNBBTC","i":"1m","f":100,"L":200,"o":"0.0010","c":"0.0020","h":"0.0025","l":"0.0015","v":"1000","n":100,"x":false,"q":"1.0000","V":"500","Q":"0.500","B":"123456"}}"#).expect("kline");
        let Payload::Kline(k) = m.payload else {
            panic!("kline")
        };
        assert_eq!(k.candle.interval_ms, 60_000);
        assert_eq!(k.candle.high, dec!(0.0025));
        assert!(!k.is_closed);
        let m = decode(r#"{"lastUpdateId":1027024,"bids":[["4.00000000","431.00000000"]],"asks":[["4.00000200","12.00000000"]]}"#).expect("snapshot");
        assert_eq!(m.symbol(), None);
        let Payload::DepthSnapshot(s) = m.payload else {
            panic!("snapshot")
        };
        assert_eq!(s.last_update_id, 1027024);
        assert_eq!(s.asks, vec![(dec!(4.000002), dec!(12))]);
        assert_eq!(
            decode(r#"{"result":null,"id":1}"#).expect("reply").payload,
            Payload::Reply(Reply {
                id: Some(ReplyId::Number(1)),
                error: None
            })
        );
        assert_eq!(
            decode(r#"{"error":{"code":2,"msg":"Invalid request"},"id":"x"}"#)
                .expect("reply")
                .payload,
            Payload::Reply(Reply {
                id: Some(ReplyId::Text("x".into())),
                error: Some((2, "Invalid request".into()))
            })
        );
    }

    #[test]
    fn unknown_types_and_errors() {
        let m = decode(r#"{"stream":"btcusdt@avgPrice","data":{"e":"avgPrice","E":1,"s":"BTCUSDT","i":"5m","w":"1.0","T":1}}"#).expect("unknown is fine");
        assert_eq!(
            m.payload,
            Payload::Unknown {
                event_type: Some("avgPrice".into())
            }
        );
        assert_eq!(m.symbol().as_deref(), Some("BTCUSDT"));
        assert!(matches!(
            decode("{\"e\":\"depthUpdate\""),
            Err(DecodeError::Malformed(_))
        ));
        assert!(matches!(decode("[1,2]"), Err(DecodeError::Invalid(_))));
        assert!(matches!(decode("{} x"), Err(DecodeError::Malformed(_))));
        assert_eq!(
            decode(r#"{"e":"depthUpdate","E":1,"s":"X","U":1,"u":2,"b":[]}"#),
            Err(DecodeError::Missing {
                kind: "depthUpdate",
                field: "a"
            })
        );
        let e = decode(r#"{"e":"trade","E":1,"s":"X","t":7,"p":"abc","q":"1","T":2,"m":true}"#)
            .expect_err("bad price");
        assert!(
            e.to_string().contains("'abc' is not a decimal number"),
            "{e}"
        );
    }

    #[test]
    fn fast_decimal_path_equals_from_str() {
        for s in [
            "0",
            "0.0",
            "61837.63000000",
            "0.00000001",
            "1234567890123456789",
            "12345678901.23456789",
            "007.50",
            "1.",
            ".5",
            "-1.5",
            "1e3",
            "12345678901234567890",
            "1_000",
            "",
            ".",
        ] {
            let fast = fast_dec(s.as_bytes());
            let slow = Decimal::from_str(s).ok();
            if let Some(f) = fast {
                assert_eq!(Some(f), slow, "{s}");
                assert_eq!(Some(f.to_string()), slow.map(|d| d.to_string()), "{s}");
                assert_eq!(f.scale(), slow.map_or(99, |d| d.scale()), "{s}");
            }
        }
        assert!(fast_dec(b"61837.63000000").is_some());
        assert!(fast_dec(b"-1").is_none() && fast_dec(b"1.").is_none());
    }

    proptest::proptest! {
        #[test]
        fn fast_decimal_matches_general_parser(int in "[0-9]{1,12}", frac in proptest::option::of("[0-9]{0,10}")) {
            let s = match &frac { Some(f) => format!("{int}.{f}"), None => int.clone() };
            if let Some(f) = fast_dec(s.as_bytes()) {
                let slow = Decimal::from_str(&s).expect("digits parse");
                proptest::prop_assert_eq!(f, slow);
                proptest::prop_assert_eq!(f.scale(), slow.scale());
            }
        }

        #[test]
        fn decoder_never_panics_on_bytes(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..400)) {
            let _ = decode_slice(&bytes);
        }
    }
}
