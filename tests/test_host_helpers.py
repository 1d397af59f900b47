#!/usr/bin/python3
"""test_host_helpers.py — src/host_helpers.py as plain Python, outside the host.

Run by make check (with Debian's python3, the interpreter the host embeds):
what the host relies on from each helper.
"""
import os
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src"))
import host_helpers  # noqa: E402


class Run(unittest.TestCase):
    def test_captures_output_and_keeps_the_namespace(self):
        ns = {}
        out, err, tb = host_helpers.run("x = 2\nprint(x + 2)\nimport sys\n"
                                        "print('e', file=sys.stderr)", "<cell>", ns)
        self.assertEqual((out, err, tb), ("4\n", "e\n", ""))
        self.assertEqual(ns["x"], 2)

    def test_traceback_starts_at_the_cell(self):
        out, err, tb = host_helpers.run("1 / 0", "<cell>", {})
        self.assertIn('File "<cell>", line 1', tb)
        self.assertNotIn("host_helpers", tb)
        self.assertTrue(tb.endswith("ZeroDivisionError: division by zero\n"))



class Prompt(unittest.TestCase):
    def test_echoes_every_expression_as_the_repl_does(self):
        self.assertEqual(host_helpers.prompt("2 + 2", {}), ("4\n", "", "", False))
        self.assertEqual(host_helpers.prompt("y = 1", {})[0], "")
        self.assertEqual(host_helpers.prompt("t = [2] * 3; len(t)", {})[0], "3\n")
        self.assertEqual(host_helpers.prompt("None", {})[0], "")

    def test_a_block_waits_for_its_empty_line(self):
        ns = {}
        self.assertTrue(host_helpers.prompt("for i in range(2):", ns)[3])
        self.assertTrue(host_helpers.prompt("for i in range(2):\n    print(i)", ns)[3])
        self.assertEqual(host_helpers.prompt("for i in range(2):\n    print(i)\n", ns),
                         ("0\n1\n", "", "", False))
        self.assertTrue(host_helpers.prompt("x = (1,", ns)[3])
        self.assertEqual(host_helpers.prompt("x = (1,\n2)", ns)[3], False)
        self.assertEqual(ns["x"], (1, 2))

    def test_several_statements_run_as_a_cell(self):
        ns = {}
        self.assertEqual(host_helpers.prompt("x = 2\nprint(x + 2)\n", ns), ("4\n", "", "", False))
        self.assertEqual(ns["x"], 2)

    def test_syntax_error_once_and_no_host_frame(self):
        out, err, tb, more = host_helpers.prompt("2 +* 2", {})
        self.assertFalse(more)
        self.assertEqual(tb.count("SyntaxError"), 1)
        self.assertNotIn("host_helpers", tb)
        self.assertNotIn("During handling", tb)
        self.assertIn('File "<prompt>", line 1', tb)

    def test_traceback_starts_at_the_entry(self):
        tb = host_helpers.prompt("1 / 0", {})[2]
        self.assertTrue(tb.startswith("Traceback (most recent call last):\n"
                                      '  File "<prompt>", line 1'), tb)
        self.assertNotIn("host_helpers", tb)

    def test_exit_says_how_to_leave(self):
        import builtins
        had = {n: getattr(builtins, n) for n in ("exit", "quit") if hasattr(builtins, n)}
        for n in had:
            delattr(builtins, n)
        try:
            out, err, tb, more = host_helpers.prompt("exit()", {})
            self.assertIn("q quits the tutor", out)
            self.assertEqual(tb, "")
        finally:
            for n in ("exit", "quit"):
                if hasattr(builtins, n):
                    delattr(builtins, n)
            for n, v in had.items():
                setattr(builtins, n, v)

    def test_help_is_there(self):
        out = host_helpers.prompt("help(len)", {})[0]
        self.assertIn("len(obj, /)", out)

    def test_sigint_raises_keyboardinterrupt_in_the_entry(self):
        import signal
        was = signal.signal(signal.SIGINT, signal.SIG_IGN)
        try:
            tb = host_helpers.prompt("if True:\n    import os, signal\n"
                                     "    os.kill(os.getpid(), signal.SIGINT)\n"
                                     "    while True: pass\n", {})[2]
            self.assertTrue(tb.endswith("KeyboardInterrupt\n"), tb)
            self.assertEqual(signal.getsignal(signal.SIGINT), signal.SIG_IGN)
        finally:
            signal.signal(signal.SIGINT, was)


class Roles(unittest.TestCase):
    def test_one_letter_per_byte(self):
        src = "if x: print('é', 12)  # c\n"
        r = host_helpers.roles(src)
        self.assertEqual(len(r), len(src.encode()))
        self.assertEqual(r[:2], "kk")
        self.assertEqual(r[3], "n")
        self.assertEqual(r[6:11], "bbbbb")
        self.assertEqual(r[12:16], "ssss")      # 'é' is 4 bytes with quotes
        self.assertTrue(r.rstrip().endswith("ccc"))

    def test_broken_code_gives_what_it_can(self):
        self.assertEqual(len(host_helpers.roles("(")), 1)


class RunMain(unittest.TestCase):
    def script(self, text):
        f = tempfile.NamedTemporaryFile("w", suffix=".py", delete=False)
        f.write(text)
        f.close()
        self.addCleanup(os.unlink, f.name)
        return f.name

    def test_syntax_error_names_file_and_line(self):
        p = self.script("x = 1\nx = (\n")
        self.assertRegex(host_helpers.main_code(p, [p]), rf"^{p}:2: SyntaxError: ")

    def test_argv_and_main(self):
        p = self.script("import sys\nassert sys.argv[1:] == ['a']\n"
                        "assert __name__ == '__main__'\n")
        saved = sys.argv
        try:
            code = host_helpers.main_code(p, [p, "a"])
            self.assertEqual(code.co_filename, p)
            exec(code, {"__name__": "__main__"})
        finally:
            sys.argv = saved


if __name__ == "__main__":
    unittest.main()
