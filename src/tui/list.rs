//! Cursor and scroll state of a virtualised list: only the visible window is ever drawn.

/// Selection and scroll offset over `len` rows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ListState {
    pub selected: usize,
    pub offset: usize,
}

impl ListState {
    pub fn up(&mut self, n: usize) {
        self.selected = self.selected.saturating_sub(n);
    }

    pub fn down(&mut self, n: usize, len: usize) {
        self.selected = (self.selected + n).min(len.saturating_sub(1));
    }

    pub fn top(&mut self) {
        self.selected = 0;
    }

    pub fn bottom(&mut self, len: usize) {
        self.selected = len.saturating_sub(1);
    }

    /// Keeps the selection inside `len` rows.
    pub fn clamp(&mut self, len: usize) {
        self.selected = self.selected.min(len.saturating_sub(1));
        self.offset = self.offset.min(self.selected);
    }

    /// The reducer's half: scrolls so the selection is within a window of `height` rows.
    pub fn scroll_into_view(&mut self, height: usize, len: usize) {
        let w = self.window(height, len);
        self.clamp(len);
        self.offset = w.start;
    }

    /// The renderer's half: the rows a window of `height` shows, from the stored offset,
    /// moved only as far as keeps the selection visible (pure: drawing changes nothing).
    pub fn window(&self, height: usize, len: usize) -> std::ops::Range<usize> {
        if height == 0 || len == 0 {
            return 0..0;
        }
        let selected = self.selected.min(len - 1);
        let mut offset = self.offset.min(selected);
        if selected >= offset + height {
            offset = selected + 1 - height;
        }
        offset = offset.min(len.saturating_sub(height));
        offset..(offset + height).min(len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_follows_the_selection() {
        let mut s = ListState::default();
        assert_eq!(s.window(10, 100), 0..10);
        s.down(15, 100);
        assert_eq!(s.window(10, 100), 6..16);
        s.scroll_into_view(10, 100);
        assert_eq!(s.offset, 6);
        s.up(3);
        assert_eq!(
            s.window(10, 100),
            6..16,
            "the window stays while the cursor is in it"
        );
        s.bottom(100);
        assert_eq!(s.window(10, 100), 90..100);
        s.scroll_into_view(10, 100);
        s.up(200);
        assert_eq!(s.window(10, 100), 0..10);
        s.down(5, 3);
        assert_eq!(s.selected, 2);
        assert_eq!(s.window(10, 0), 0..0);
    }
}
