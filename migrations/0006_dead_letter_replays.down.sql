DROP TABLE dead_letter_replays;
