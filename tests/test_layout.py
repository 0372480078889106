"""The code's shape (issue 40): no file of the project's own over 400 lines, no function
over 60, no class over 150, and no import circle between its modules."""
import ast
import os
import pathlib
import subprocess

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def python_files():
    listed = subprocess.run(['git', 'ls-files', '*.py'], cwd=ROOT, capture_output=True,
                            text=True, check=True).stdout.split()
    sources = {path: pathlib.Path(ROOT, path).read_text() for path in listed}
    return {path: (source.count('\n'), ast.parse(source)) for path, source in sources.items()}


def test_no_file_function_or_class_is_too_long():
    too_long = []
    for path, (lines, tree) in python_files().items():
        if lines > 400:
            too_long.append(f"{path}: {lines} lines")
        for node in ast.walk(tree):
            limit = (60 if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
                     else 150 if isinstance(node, ast.ClassDef) else None)
            if limit and node.end_lineno - node.lineno + 1 > limit:
                too_long.append(f"{path}: {node.name}, {node.end_lineno - node.lineno + 1}")
    assert not too_long


def module_name(path):
    name = path[:-3].replace('/', '.')
    return name[:-len('.__init__')] if name.endswith('.__init__') else name


def test_no_import_circle():
    """Imports between the project's modules (at any depth of the code, as the lazy
    imports inside functions are), followed from every module: none comes back."""
    trees = {module_name(path): tree for path, (_, tree) in python_files().items()
             if not path.startswith('tests/')}
    imports = {}
    for name, tree in trees.items():
        found = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                found.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                found.add(node.module)
                found.update(f'{node.module}.{alias.name}' for alias in node.names)
        imports[name] = {module for module in found if module in trees and module != name}

    def circle_from(start):
        stack, seen = [(start, [start])], set()
        while stack:
            name, path = stack.pop()
            for other in imports[name]:
                if other == start:
                    return path + [other]
                if other not in seen:
                    seen.add(other)
                    stack.append((other, path + [other]))
        return None
    circles = [circle for circle in map(circle_from, imports) if circle]
    assert not circles
