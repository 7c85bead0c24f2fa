"""Packages of the wheel (everything else is in pyproject.toml): the code, and configs/ shipped as zoo.configs.

pyproject.toml alone cannot add a package that lives outside its parent's folder; the repository keeps configs/ at
its top level, so the mapping is here.
"""

from setuptools import find_packages, setup

setup(packages=find_packages(include=["zoo*", "datamodules*", "modules*", "callbacks*"]) + ["zoo.configs"],
      package_dir={"zoo.configs": "configs"})
