//! Command-line arguments.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};
use papermemes_core::order::Side;
use rust_decimal::Decimal;

#[derive(Debug, Clone, Parser)]
#[command(
    name = "papermemes",
    version,
    about = "Paper-trade meme coins on real recorded market data, offline. Run without a command for an interactive shell.",
    after_help = "Examples:\n  papermemes backtest --data assets/market/candles/binance_PEPE_USDT-5m.csv.gz --strategy sma-cross --param fast=20 --param slow=50\n  papermemes replay start --symbols DOGEUSDT,PEPEUSDT\n  papermemes order buy DOGEUSDT --quote 250\n  papermemes replay step --bars 12\n  papermemes portfolio"
)]
pub struct Cli {
    /// Folder for the database, settings and logs (default: the platform data dir).
    #[arg(long, global = true, env = "PAPERMEMES_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// Folder with the bundled market data (assets/).
    #[arg(long, global = true, env = "PAPERMEMES_ASSETS")]
    pub assets: Option<PathBuf>,
    /// Machine-readable JSON output.
    #[arg(long, global = true)]
    pub json: bool,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Clone, Subcommand)]
pub enum Command {
    /// Backtest a strategy over candle files.
    Backtest(BacktestArgs),
    /// The replayed market: start, step, run a strategy, status.
    Replay {
        #[command(subcommand)]
        command: ReplayCommand,
    },
    /// Place a paper order.
    Order(OrderArgs),
    /// Place a one-cancels-the-other pair (limit maker + stop).
    Oco(OcoArgs),
    /// List open orders (or all with --all).
    Orders {
        #[arg(long)]
        all: bool,
        #[arg(long)]
        symbol: Option<String>,
    },
    /// Cancel an order by id, or all open orders.
    Cancel {
        id: Option<u64>,
        #[arg(long)]
        all: bool,
        #[arg(long)]
        symbol: Option<String>,
    },
    /// Balances, positions, PnL and equity.
    Portfolio,
    /// The account's equity over market time (one point per replayed bar).
    Equity {
        /// Show only the latest N points.
        #[arg(long, default_value_t = 20)]
        limit: usize,
    },
    /// Recent fills.
    Fills {
        #[arg(long, default_value_t = 50)]
        limit: usize,
    },
    /// The paper account.
    Account {
        #[command(subcommand)]
        command: AccountCommand,
    },
    /// The ledger database: backup, verify, path.
    Db {
        #[command(subcommand)]
        command: DbCommand,
    },
    /// Export the ledger as CSV files.
    Export {
        /// Directory to write the CSV files into.
        #[arg(long)]
        csv: PathBuf,
    },
    /// The instruments and their trading rules (bundled snapshot, or the last refresh).
    Instruments {
        #[command(subcommand)]
        command: Option<InstrumentsCommand>,
    },
    /// Interactive shell.
    Shell,
    /// Recorded Binance WebSocket captures.
    Capture {
        #[command(subcommand)]
        command: CaptureCommand,
    },
    /// A live terminal view of a feed: top of book, last trades, feed status.
    Stream(StreamArgs),
    /// Record live Binance data to a capture file (replayable, verifiable).
    Record(RecordArgs),
    /// Memes: templates, make one, make one from a trade, import an image, the gallery.
    Meme {
        #[command(subcommand)]
        command: MemeCommand,
    },
}

#[derive(Debug, Clone, Subcommand)]
pub enum MemeCommand {
    /// List the templates (bundled and imported), optionally searched or by tag.
    Templates {
        /// Words that must all appear in the name, keywords, tags or example captions.
        #[arg(long)]
        search: Option<String>,
        #[arg(long)]
        tag: Option<String>,
    },
    /// Caption a template and export it (PNG, JPEG, WebP or GIF, from the file extension).
    Make {
        #[arg(long)]
        template: String,
        /// One caption per text box, in order (repeat: --text "top" --text "bottom").
        #[arg(long)]
        text: Vec<String>,
        #[arg(short, long)]
        out: PathBuf,
        /// original, square-1080, 720, 480, square-N or N (longest side).
        #[arg(long, default_value = "original")]
        size: String,
        /// An emoji sticker: EMOJI@X,Y,SCALE[,ANGLE] (centre and width in fractions of the image).
        #[arg(long)]
        sticker: Vec<String>,
        /// Also keep it in the gallery.
        #[arg(long)]
        save: bool,
    },
    /// A PnL card from one of your trades: a sell fill (a closed trade) or an open position.
    FromTrade {
        /// The id of a sell fill (`papermemes fills` lists them).
        #[arg(long, conflicts_with = "position")]
        trade: Option<i64>,
        /// An open position's symbol, at its current mark price.
        #[arg(long)]
        position: Option<String>,
        #[arg(short, long)]
        out: Option<PathBuf>,
        /// Use this template instead of the one picked by the outcome.
        #[arg(long)]
        template: Option<String>,
        /// Your own captions instead of the phrase bank's.
        #[arg(long)]
        text: Vec<String>,
        /// Picks among the matching templates and phrases.
        #[arg(long, default_value_t = 0)]
        seed: u64,
        /// Keep it in the gallery.
        #[arg(long)]
        save: bool,
    },
    /// Turn your own image or GIF into a template (top and bottom captions).
    Import {
        image: PathBuf,
        #[arg(long)]
        name: String,
        /// Search words (repeatable).
        #[arg(long)]
        keyword: Vec<String>,
    },
    /// The saved memes, newest first.
    Gallery {
        #[arg(long)]
        search: Option<String>,
        #[arg(long, default_value_t = 50)]
        limit: usize,
    },
    /// Export a saved meme (format from the extension).
    Export {
        id: i64,
        #[arg(short, long)]
        out: PathBuf,
    },
    /// Delete a saved meme and its file.
    Delete { id: i64 },
}

#[derive(Debug, Clone, Subcommand)]
pub enum InstrumentsCommand {
    /// Fetch the current trading rules from Binance (exchangeInfo) and cache them for offline
    /// use; orders are checked against them from then on.
    Refresh {
        /// Override the REST base URL (settings: live.rest_base).
        #[arg(long)]
        rest_base: Option<String>,
    },
}

#[derive(Debug, Clone, clap::Args)]
pub struct StreamArgs {
    /// Comma-separated symbols for --live, e.g. pepeusdt,dogeusdt.
    #[arg(long)]
    pub symbols: Option<String>,
    /// Binance public streams (the default when no --replay is given).
    #[arg(long)]
    pub live: bool,
    /// Replay a recorded capture file instead.
    #[arg(long)]
    pub replay: Option<PathBuf>,
    /// The seeded simulator instead (no data, no network).
    #[arg(long)]
    pub sim: bool,
    /// Simulator seed.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Replay speed: 1 = real time, 10 = ten times faster, 0 = as fast as possible.
    #[arg(long, default_value_t = 1.0)]
    pub speed: f64,
    /// Stop after this many seconds.
    #[arg(long)]
    pub duration: Option<f64>,
    /// Override the WebSocket base URL (settings: live.ws_base).
    #[arg(long)]
    pub ws_base: Option<String>,
    /// Override the REST base URL (settings: live.rest_base).
    #[arg(long)]
    pub rest_base: Option<String>,
}

#[derive(Debug, Clone, clap::Args)]
pub struct RecordArgs {
    /// Comma-separated symbols, e.g. pepeusdt,dogeusdt.
    #[arg(long)]
    pub symbols: String,
    /// Output file (gzip capture: `<receive_ns> <raw JSON>` lines).
    #[arg(long)]
    pub out: PathBuf,
    /// Stop after this many seconds (default: Ctrl-C).
    #[arg(long)]
    pub duration: Option<f64>,
    #[arg(long)]
    pub ws_base: Option<String>,
    #[arg(long)]
    pub rest_base: Option<String>,
}

#[derive(Debug, Clone, clap::Args)]
pub struct BacktestArgs {
    /// Candle CSV files (plain or .gz); default: the bundled data.
    #[arg(long)]
    pub data: Vec<PathBuf>,
    /// Symbol (for one file whose name does not tell it, or to pick bundled data).
    #[arg(long)]
    pub symbol: Option<String>,
    /// Interval of the bundled data when no --data is given.
    #[arg(long, default_value = "5m")]
    pub interval: String,
    #[arg(long, default_value = "sma-cross")]
    pub strategy: String,
    /// Strategy parameter key=value (repeatable), e.g. --param fast=20.
    #[arg(long)]
    pub param: Vec<String>,
    // (Negative numbers are taken as values, so that `--cash -5` gets the backtest's own
    // "must be positive" refusal rather than clap's "unexpected argument '-5'".)
    #[arg(long, default_value = "10", allow_negative_numbers = true)]
    pub fee_bps: Decimal,
    #[arg(long, default_value = "0", allow_negative_numbers = true)]
    pub slippage_bps: Decimal,
    #[arg(long, default_value = "10000", allow_negative_numbers = true)]
    pub cash: Decimal,
    /// Write the per-bar equity curve here (CSV).
    #[arg(long)]
    pub equity_csv: Option<PathBuf>,
    /// Write every trade here (CSV).
    #[arg(long)]
    pub trades_csv: Option<PathBuf>,
    /// How many of the latest trades to list in the table.
    #[arg(long, default_value_t = 10)]
    pub show_trades: usize,
}

#[derive(Debug, Clone, Subcommand)]
pub enum ReplayCommand {
    /// Start replaying bundled candles (or --data files) from the beginning or --from.
    Start {
        /// Comma-separated symbols, e.g. DOGEUSDT,PEPEUSDT (default: settings).
        #[arg(long)]
        symbols: Option<String>,
        /// 5m or 1h for the bundled data.
        #[arg(long)]
        interval: Option<String>,
        #[arg(long)]
        data: Vec<PathBuf>,
        /// Start at a date (YYYY-MM-DD) or milliseconds since 1970.
        #[arg(long)]
        from: Option<String>,
        /// Replay a recorded WebSocket capture (real order book) instead of candles.
        #[arg(long, conflicts_with_all = ["symbols", "interval", "data", "from", "sim"])]
        capture: Option<PathBuf>,
        /// Use the seeded simulator (calibrated from the bundled candles) as the market.
        #[arg(long, conflicts_with_all = ["data", "interval"])]
        sim: bool,
        /// Simulator seed: the same seed gives the same market.
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
    /// Advance the market by N bars (all symbols), filling orders as it goes.
    Step {
        #[arg(long, default_value_t = 1)]
        bars: u64,
        /// Capture replays: advance this many seconds of market time.
        #[arg(long)]
        seconds: Option<f64>,
        /// Replay speed versus real time (e.g. 60 = a 5-minute bar per 5 s); default as fast as possible.
        #[arg(long)]
        speed: Option<f64>,
    },
    /// Run a strategy on the replayed market, trading the paper account.
    Run {
        #[arg(long)]
        strategy: String,
        #[arg(long)]
        symbol: String,
        #[arg(long)]
        param: Vec<String>,
        /// Stop after this many bars (default: to the end of the data).
        #[arg(long)]
        bars: Option<u64>,
    },
    /// Where the replay is.
    Status,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum SideArg {
    Buy,
    Sell,
}

impl From<SideArg> for Side {
    fn from(s: SideArg) -> Side {
        match s {
            SideArg::Buy => Side::Buy,
            SideArg::Sell => Side::Sell,
        }
    }
}

#[derive(Debug, Clone, clap::Args)]
pub struct OrderArgs {
    pub side: SideArg,
    pub symbol: String,
    /// Base quantity.
    #[arg(long)]
    pub qty: Option<Decimal>,
    /// Market orders: quote amount to spend or receive, fees included.
    #[arg(long)]
    pub quote: Option<Decimal>,
    /// market, limit, limit-maker, stop-loss, stop-loss-limit, take-profit, take-profit-limit.
    #[arg(long = "type", default_value = "market")]
    pub order_type: String,
    #[arg(long)]
    pub price: Option<Decimal>,
    /// Stop (trigger) price.
    #[arg(long)]
    pub stop: Option<Decimal>,
    /// GTC, IOC or FOK (limit orders).
    #[arg(long)]
    pub tif: Option<String>,
    #[arg(long)]
    pub client_id: Option<String>,
}

#[derive(Debug, Clone, clap::Args)]
pub struct OcoArgs {
    pub side: SideArg,
    pub symbol: String,
    #[arg(long)]
    pub qty: Decimal,
    /// Limit maker price (above the market for a sell).
    #[arg(long)]
    pub price: Decimal,
    /// Stop price (below the market for a sell).
    #[arg(long)]
    pub stop: Decimal,
    /// Make the stop leg a stop-limit at this price.
    #[arg(long)]
    pub stop_limit: Option<Decimal>,
}

#[derive(Debug, Clone, Subcommand)]
pub enum AccountCommand {
    /// Show the account.
    Show,
    /// Start a fresh paper account (history is kept).
    Reset {
        #[arg(long)]
        cash: Option<Decimal>,
        /// Do not ask for confirmation.
        #[arg(long)]
        yes: bool,
    },
}

#[derive(Debug, Clone, Subcommand)]
pub enum DbCommand {
    /// Online backup of the ledger to FILE.
    Backup { file: PathBuf },
    /// Prove balances are derivable from the ledger.
    Verify,
    /// Print the database path.
    Path,
}

#[derive(Debug, Clone, Subcommand)]
pub enum CaptureCommand {
    /// Rebuild the order book from a capture (gzip or plain) by Binance's rules and check it
    /// against every bookTicker with the same update id. Exit 3 on a mismatch or when the book
    /// is not in sync at the end.
    Verify {
        file: PathBuf,
        /// Skip (and count) lines that do not decode instead of failing on the first.
        #[arg(long)]
        lenient: bool,
    },
}
