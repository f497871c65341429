import { useEffect, useRef, type ReactNode } from "react";

// Open dialogs, newest last: Esc closes the newest.
const stack: (() => void)[] = [];

export function closeTopDialog(): boolean {
  const close = stack[stack.length - 1];
  if (!close) return false;
  close();
  return true;
}

export function Dialog(props: {
  title: string;
  onClose: () => void;
  children: ReactNode;
  footer?: ReactNode;
  wide?: boolean;
  testId?: string;
}) {
  const onClose = useRef(props.onClose);
  onClose.current = props.onClose;
  useEffect(() => {
    const close = () => onClose.current();
    stack.push(close);
    return () => {
      const i = stack.indexOf(close);
      if (i >= 0) stack.splice(i, 1);
    };
  }, []);
  return (
    <div className="dialog-backdrop" onMouseDown={(e) => e.target === e.currentTarget && props.onClose()}>
      <div
        className={`dialog ${props.wide ? "dialog-wide" : ""}`}
        role="dialog"
        aria-modal="true"
        aria-label={props.title}
        data-testid={props.testId}
      >
        <div className="dialog-head">
          <h2>{props.title}</h2>
          <button className="icon-btn" aria-label="Close" onClick={props.onClose}>
            ×
          </button>
        </div>
        <div className="dialog-body">{props.children}</div>
        {props.footer && <div className="dialog-foot">{props.footer}</div>}
      </div>
    </div>
  );
}

/** A yes/no question. */
export function Confirm(props: {
  title: string;
  children: ReactNode;
  confirmLabel: string;
  danger?: boolean;
  onConfirm: () => void;
  onCancel: () => void;
}) {
  return (
    <Dialog
      title={props.title}
      onClose={props.onCancel}
      testId="confirm"
      footer={
        <>
          <button className="btn" onClick={props.onCancel}>
            Cancel
          </button>
          <button
            className={`btn ${props.danger ? "btn-danger" : "btn-primary"}`}
            onClick={props.onConfirm}
            autoFocus
          >
            {props.confirmLabel}
          </button>
        </>
      }
    >
      {props.children}
    </Dialog>
  );
}
