# coding: utf-8
# A test copy of 『ゼロから作るDeep Learning ❷』 common/config.py
GPU = False
