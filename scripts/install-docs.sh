#!/usr/bin/env bash
# Generates man pages (swift-argument-parser's generate-manual plugin) and bash, zsh and fish completion scripts
# for the tools, into .build/man and .build/completions, and installs them under /usr/local/share when it can.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=$(swift build -c release --show-bin-path)
mkdir -p .build/man .build/completions
swift package plugin --allow-writing-to-directory .build/man generate-manual --output-directory .build/man >/dev/null
for tool in tprof-record tprof-report; do
    "$bin/$tool" --generate-completion-script bash > ".build/completions/$tool.bash"
    "$bin/$tool" --generate-completion-script zsh > ".build/completions/_$tool"
    "$bin/$tool" --generate-completion-script fish > ".build/completions/$tool.fish"
done
if [ -w /usr/local/share ] || [ "$(id -u)" -eq 0 ]; then
    install -d /usr/local/share/man/man1 /usr/local/share/bash-completion/completions \
        /usr/local/share/zsh/site-functions /usr/local/share/fish/vendor_completions.d
    install -m 0644 .build/man/tprof-record.1 .build/man/tprof-report.1 /usr/local/share/man/man1/
    for tool in tprof-record tprof-report; do
        install -m 0644 ".build/completions/$tool.bash" "/usr/local/share/bash-completion/completions/$tool"
        install -m 0644 ".build/completions/_$tool" /usr/local/share/zsh/site-functions/
        install -m 0644 ".build/completions/$tool.fish" /usr/local/share/fish/vendor_completions.d/
    done
    echo "installed man pages (man tprof-record) and shell completions under /usr/local/share"
else
    echo "man pages in .build/man, completions in .build/completions (run as root to install them)"
fi
