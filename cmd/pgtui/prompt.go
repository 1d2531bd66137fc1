package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// nonInteractive is flyctl's ErrNonInteractive: input that would be
// prompted for is missing and nobody is at the terminal. It names the
// flag so a script's author knows what to add.
func nonInteractive(flag, hint string) error {
	msg := flag + " is required when not running interactively"
	if hint != "" {
		msg += " (" + hint + ")"
	}
	return errors.New(msg)
}

// readLine reads one answer. Prompts go to Err so that stdout stays
// clean for the command's own output.
func (d *deps) readLine(question string) (string, error) {
	if d.lines == nil {
		d.lines = bufio.NewReader(d.In)
	}
	_, _ = fmt.Fprintf(d.Err, "? %s: ", question)
	line, err := d.lines.ReadString('\n')
	if err != nil && (!errors.Is(err, io.EOF) || line == "") {
		return "", fmt.Errorf("no answer to %q: %w", question, err)
	}
	return strings.TrimSpace(line), nil
}

// askText asks until the answer passes check; an empty answer takes def
// (shown in brackets) when there is one.
func (d *deps) askText(question, def string, check func(string) error) (string, error) {
	label := question
	if def != "" {
		label = fmt.Sprintf("%s [%s]", question, def)
	}
	for {
		v, err := d.readLine(label)
		if err != nil {
			return "", err
		}
		if v == "" {
			v = def
		}
		if v == "" {
			_, _ = fmt.Fprintln(d.Err, "X an answer is required")
			continue
		}
		if err := check(v); err != nil {
			_, _ = fmt.Fprintf(d.Err, "X %v\n", err)
			continue
		}
		return v, nil
	}
}

// askInt is askText for numbers.
func (d *deps) askInt(question string, def int, check func(int) error) (int, error) {
	var n int
	_, err := d.askText(question, strconv.Itoa(def), func(s string) error {
		v, err := strconv.Atoi(s)
		if err != nil {
			return fmt.Errorf("%q is not a whole number", s)
		}
		n = v
		return check(v)
	})
	return n, err
}

// askChoice lists the choices, then asks for one of their keys.
func (d *deps) askChoice(question, def string, choices [][2]string, check func(string) error) (string, error) {
	_, _ = fmt.Fprintf(d.Err, "%s:\n", question)
	for _, c := range choices {
		_, _ = fmt.Fprintf(d.Err, "  %s\n", strings.TrimSpace(c[0]+"  "+c[1]))
	}
	return d.askText(question, def, check)
}

// confirmDestroy guards irreversible commands: --yes, or typing the name
// at a terminal. Without a terminal --yes is the only way through, so a
// script can never destroy something by accident.
func (d *deps) confirmDestroy(what, name string, yes bool) error {
	if yes {
		return nil
	}
	if !d.IsTTY {
		return fmt.Errorf("--yes is required to destroy %s %s when not running interactively", what, name)
	}
	_, _ = fmt.Fprintf(d.Err, "Destroying %s %s is not reversible.\n", what, name)
	answer, err := d.readLine(fmt.Sprintf("Type the name (%s) to confirm", name))
	if err != nil {
		return err
	}
	if answer != name {
		return fmt.Errorf("confirmation %q does not match %s: nothing was destroyed", answer, name)
	}
	return nil
}
