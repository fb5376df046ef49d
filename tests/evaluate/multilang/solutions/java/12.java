        String best = null;
        for (String s : strings) {
            if (best == null || s.length() > best.length()) best = s;
        }
        return Optional.ofNullable(best);
    }
}
