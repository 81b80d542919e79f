"""MACE and LDSM meetings (issue 14): map → refer → meet → act → review. Meetings with their
agenda, attendance and decisions; places referred to a panel and their life cycle; Four-P
actions followed to completion; the meeting pack; how the partnership is working."""
