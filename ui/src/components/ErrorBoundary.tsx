import { Component, type ReactNode } from "react";

/** A panel that fails to render shows what went wrong instead of taking the window down. */
export class ErrorBoundary extends Component<{ name: string; children: ReactNode }, { error: Error | null }> {
  state = { error: null as Error | null };

  static getDerivedStateFromError(error: Error) {
    return { error };
  }

  componentDidCatch(error: Error) {
    console.error(`${this.props.name} failed`, error);
  }

  render() {
    if (this.state.error) {
      return (
        <div className="panel">
          <div className="empty error-text" role="alert">
            {this.props.name} could not be shown: {this.state.error.message}
            <div>
              <button className="btn small" onClick={() => this.setState({ error: null })}>
                Try again
              </button>
            </div>
          </div>
        </div>
      );
    }
    return this.props.children;
  }
}
