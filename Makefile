# Build and install shmscope with its shell completions and man pages.
#   make                      release build
#   make install PREFIX=/usr/local [DESTDIR=...]
#   make uninstall PREFIX=/usr/local
PREFIX ?= /usr/local
DESTDIR ?=
BINDIR := $(DESTDIR)$(PREFIX)/bin
MANDIR := $(DESTDIR)$(PREFIX)/share/man/man1
BASHDIR := $(DESTDIR)$(PREFIX)/share/bash-completion/completions
ZSHDIR := $(DESTDIR)$(PREFIX)/share/zsh/site-functions
FISHDIR := $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d
SWIFT ?= swift
BIN = $(shell $(SWIFT) build -c release --show-bin-path)/shmscope

.PHONY: all build man install uninstall
all: build

build:
	$(SWIFT) build -c release --product shmscope

# Man pages generated from the argument parser's own definitions (swift-argument-parser's generate-manual plugin).
man: build
	rm -rf .build/man && mkdir -p .build/man
	$(SWIFT) package --allow-writing-to-directory "$(CURDIR)/.build/man" generate-manual --multi-page --output-directory "$(CURDIR)/.build/man"
	@ls .build/man

install: build man
	install -d $(BINDIR) $(MANDIR) $(BASHDIR) $(ZSHDIR) $(FISHDIR)
	install -m 0755 $(BIN) $(BINDIR)/shmscope
	find .build/man -name '*.1' -exec install -m 0644 {} $(MANDIR)/ \;
	$(BIN) --generate-completion-script bash > $(BASHDIR)/shmscope
	$(BIN) --generate-completion-script zsh > $(ZSHDIR)/_shmscope
	$(BIN) --generate-completion-script fish > $(FISHDIR)/shmscope.fish
	@echo "installed shmscope to $(BINDIR); man shmscope; restart your shell for completions"

uninstall:
	rm -f $(BINDIR)/shmscope $(BASHDIR)/shmscope $(ZSHDIR)/_shmscope $(FISHDIR)/shmscope.fish
	rm -f $(MANDIR)/shmscope.1 $(MANDIR)/shmscope.*.1
