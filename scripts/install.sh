#!/usr/bin/env bash
# Installs the release executables in /usr/local/bin, man pages (swift-argument-parser's generate-manual plugin) and
# bash, zsh and fish completion scripts. Everything is generated into .build/man and .build/completions first; it is
# installed under /usr/local when this user may write there (root), and stays in .build otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."
tools=(tprof-record tprof-report tprof-count tprof-top)
bin=$(swift build -c release --show-bin-path)
mkdir -p .build/man .build/completions
swift package plugin --allow-writing-to-directory .build/man generate-manual --output-directory .build/man >/dev/null
for tool in "${tools[@]}"; do
    "$bin/$tool" --generate-completion-script bash > ".build/completions/$tool.bash"
    "$bin/$tool" --generate-completion-script zsh > ".build/completions/_$tool"
    "$bin/$tool" --generate-completion-script fish > ".build/completions/$tool.fish"
done
if [ -w /usr/local/bin ] || [ "$(id -u)" -eq 0 ]; then
    install -d /usr/local/bin /usr/local/share/man/man1 /usr/local/share/bash-completion/completions \
        /usr/local/share/zsh/site-functions /usr/local/share/fish/vendor_completions.d
    for tool in "${tools[@]}"; do
        # install(1) replaces a file or a symlink at the destination itself, never the file a link points to.
        install -m 0755 "$bin/$tool" /usr/local/bin/
        install -m 0644 ".build/man/$tool.1" /usr/local/share/man/man1/
        install -m 0644 ".build/completions/$tool.bash" "/usr/local/share/bash-completion/completions/$tool"
        install -m 0644 ".build/completions/_$tool" /usr/local/share/zsh/site-functions/
        install -m 0644 ".build/completions/$tool.fish" /usr/local/share/fish/vendor_completions.d/
    done
    echo "installed ${tools[*]} in /usr/local/bin, man pages (man tprof-record, man tprof-top) and shell completions under /usr/local/share"
else
    echo "executables in $bin, man pages in .build/man, completions in .build/completions (run as root to install them)"
fi
