import { useAppInfo } from "../lib/queries";
import { Dialog } from "./Dialog";

export function AboutDialog(props: { onClose: () => void }) {
  const info = useAppInfo();
  return (
    <Dialog title="About PaperMemes" onClose={props.onClose} testId="about">
      <p>
        PaperMemes {info.data?.version ?? ""} — paper trading of meme coins on real recorded
        market data, a simulator, or live public streams. Nothing here is real money.
      </p>
      {info.data && (
        <dl className="kv">
          <dt>Data folder</dt>
          <dd>{info.data.data_dir}</dd>
          <dt>Settings</dt>
          <dd>{info.data.config_file}</dd>
          <dt>Logs</dt>
          <dd>{info.data.log_dir}</dd>
        </dl>
      )}
      <h3>Data and software</h3>
      <ul className="credits">
        <li>
          Charts by TradingView Lightweight Charts™, Copyright (c) 2023 TradingView, Inc.,{" "}
          <a href="https://www.tradingview.com/" target="_blank" rel="noreferrer">
            https://www.tradingview.com/
          </a>{" "}
          (Apache-2.0).
        </li>
        <li>
          Bundled candles: Binance market data via imsatoshi/GeneTrader (MIT). Bundled order-book
          capture: Binance market data via nkaz001/hftbacktest (MIT).
        </li>
        <li>
          Fonts: Inter, Copyright 2020 The Inter Project Authors, and JetBrains Mono, Copyright 2020
          The JetBrains Mono Project Authors (SIL Open Font License 1.1).
        </li>
        <li>PaperMemes is MIT-licensed.</li>
      </ul>
    </Dialog>
  );
}
